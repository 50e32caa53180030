-- The landlord's self-assessment against the Complaint Handling Code (appendix A, 8.1(a)) for
-- each financial year: for every provision, the answer a manager gave (complies or not, for
-- the provisions the record cannot judge) and the commentary; and the governing body's
-- response (8.2), kept under the item `governing_body`. `self_assessment_answers` is each
-- item's current version; `self_assessment_versions` keeps every version, who wrote it and
-- when, and refuses edits. Moments are Unix milliseconds.

CREATE TABLE self_assessment_answers (
    year BIGINT NOT NULL,
    item TEXT NOT NULL,
    complies BIGINT CHECK (complies IN (0, 1)),
    commentary TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_by BIGINT NOT NULL REFERENCES staff (id),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (year, item)
);

CREATE TABLE self_assessment_versions (
    year BIGINT NOT NULL,
    item TEXT NOT NULL,
    version BIGINT NOT NULL,
    complies BIGINT CHECK (complies IN (0, 1)),
    commentary TEXT NOT NULL,
    staff_id BIGINT NOT NULL REFERENCES staff (id),
    at BIGINT NOT NULL,
    PRIMARY KEY (year, item, version)
);

-- refuse_audit_change() is the audit's own guard (0005).
CREATE TRIGGER self_assessment_versions_are_never_changed BEFORE UPDATE OR DELETE ON self_assessment_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
