-- Learning from complaints (Code section 9) and the Ombudsman's cases (issue 13). Everything
-- here is about the landlord's service, not the resident: no resident's words or name are
-- kept, so the retention purge leaves these rows (they feed the annual report, 8.1). Dates a
-- person gives are local days as text (YYYY-MM-DD); moments are Unix milliseconds. Each change
-- is also in the console's audit.

-- What the landlord learned from one complaint and what it changed (9.1, 9.2): its current
-- wording, by whom and when.
CREATE TABLE case_learning (
    case_reference TEXT PRIMARY KEY REFERENCES cases (reference),
    learned TEXT NOT NULL,
    changed TEXT NOT NULL,
    recorded_by BIGINT NOT NULL REFERENCES staff (id),
    recorded_at BIGINT NOT NULL
);
-- The period summary reads learning by when it was recorded.
CREATE INDEX case_learning_by_time ON case_learning (recorded_at);

-- The register of service improvements made because of complaints (8.1(d), 9.3).
CREATE TABLE improvements (
    id BIGSERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    what_changed TEXT NOT NULL,
    owner TEXT NOT NULL,
    agreed_on TEXT NOT NULL,
    target_on TEXT NOT NULL,
    completed_on TEXT,
    created_by BIGINT NOT NULL REFERENCES staff (id),
    created_at BIGINT NOT NULL,
    updated_by BIGINT NOT NULL REFERENCES staff (id),
    updated_at BIGINT NOT NULL,
    CHECK (target_on >= agreed_on),
    CHECK (completed_on IS NULL OR completed_on >= agreed_on)
);

-- The complaints an improvement came from.
CREATE TABLE improvement_sources (
    improvement_id BIGINT NOT NULL REFERENCES improvements (id),
    case_reference TEXT NOT NULL REFERENCES cases (reference),
    PRIMARY KEY (improvement_id, case_reference)
);
-- A complaint's page shows the improvements it led to.
CREATE INDEX improvement_sources_by_case ON improvement_sources (case_reference);

-- A complaint taken to the Housing Ombudsman: when it was referred, the Ombudsman's
-- reference, when it determined the complaint and its findings (keys separated by commas:
-- severe_maladministration, maladministration, service_failure, no_maladministration,
-- outside_jurisdiction, complaint_handling_failure_order).
CREATE TABLE ombudsman_cases (
    case_reference TEXT PRIMARY KEY REFERENCES cases (reference),
    referred_on TEXT NOT NULL,
    ombudsman_reference TEXT NOT NULL,
    determined_on TEXT,
    findings TEXT NOT NULL,
    updated_by BIGINT NOT NULL REFERENCES staff (id),
    updated_at BIGINT NOT NULL,
    CHECK (determined_on IS NULL OR determined_on >= referred_on)
);

-- The Ombudsman's orders and recommendations on a determined complaint, each with its due
-- date and the date the landlord completed it.
CREATE TABLE ombudsman_orders (
    id BIGSERIAL PRIMARY KEY,
    case_reference TEXT NOT NULL REFERENCES ombudsman_cases (case_reference),
    kind TEXT NOT NULL CHECK (kind IN ('order', 'recommendation')),
    description TEXT NOT NULL,
    due_on TEXT NOT NULL,
    completed_on TEXT,
    created_by BIGINT NOT NULL REFERENCES staff (id),
    created_at BIGINT NOT NULL,
    completed_by BIGINT REFERENCES staff (id)
);
-- A complaint's page shows its orders.
CREATE INDEX ombudsman_orders_by_case ON ombudsman_orders (case_reference);
