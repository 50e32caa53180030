-- Categories, outcomes and resident feedback (issue 12; the reports of issue 13 count them).
-- Current state per complaint; who changed what, and when, is in the events and the staff
-- audit as for all case work.

-- A complaint's category: the one the policy engine suggested when it opened, and the one
-- staff confirmed or chose (a key of the landlord's `[[landlord.categories]]`).
CREATE TABLE case_categories (
    case_reference TEXT PRIMARY KEY REFERENCES cases (reference),
    suggested TEXT,
    category TEXT,
    confirmed_by BIGINT REFERENCES staff (id),
    confirmed_at BIGINT,
    CHECK ((category IS NULL) = (confirmed_at IS NULL))
);

-- What each stage's response decided, recorded with it (Code 6.9, 6.19): the outcome and any
-- compensation, in whole pence.
CREATE TABLE case_outcomes (
    case_reference TEXT NOT NULL REFERENCES cases (reference),
    stage BIGINT NOT NULL CHECK (stage IN (1, 2)),
    outcome TEXT NOT NULL CHECK (outcome IN ('upheld', 'partly_upheld', 'not_upheld')),
    compensation_pence BIGINT NOT NULL CHECK (compensation_pence >= 0),
    recorded_by BIGINT NOT NULL REFERENCES staff (id),
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (case_reference, stage)
);

-- The resident's satisfaction with how a closed complaint was handled: asked once per
-- complaint (the row is made when it is asked), answered with a score of 1 to 5 and an
-- optional comment, or skipped. The comment is the resident's words: erased with the
-- conversation; the score stays for the reports.
CREATE TABLE case_feedback (
    case_reference TEXT PRIMARY KEY REFERENCES cases (reference),
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    asked_at BIGINT NOT NULL,
    score BIGINT CHECK (score BETWEEN 1 AND 5),
    comment TEXT,
    answered_at BIGINT,
    skipped_at BIGINT
);
