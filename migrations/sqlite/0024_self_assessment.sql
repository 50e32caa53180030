-- The landlord's self-assessment against the Complaint Handling Code (appendix A, 8.1(a)) for
-- each financial year: for every provision, the answer a manager gave (complies or not, for
-- the provisions the record cannot judge) and the commentary; and the governing body's
-- response (8.2), kept under the item `governing_body`. `self_assessment_answers` is each
-- item's current version; `self_assessment_versions` keeps every version, who wrote it and
-- when, and refuses edits. Moments are Unix milliseconds.

CREATE TABLE self_assessment_answers (
    year INTEGER NOT NULL,
    item TEXT NOT NULL,
    complies INTEGER CHECK (complies IN (0, 1)),
    commentary TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_by INTEGER NOT NULL REFERENCES staff (id),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (year, item)
);

CREATE TABLE self_assessment_versions (
    year INTEGER NOT NULL,
    item TEXT NOT NULL,
    version INTEGER NOT NULL,
    complies INTEGER CHECK (complies IN (0, 1)),
    commentary TEXT NOT NULL,
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    at INTEGER NOT NULL,
    PRIMARY KEY (year, item, version)
);

CREATE TRIGGER self_assessment_versions_are_never_edited BEFORE UPDATE ON self_assessment_versions
BEGIN
    SELECT RAISE(ABORT, 'self-assessment versions are append-only');
END;

CREATE TRIGGER self_assessment_versions_are_never_deleted BEFORE DELETE ON self_assessment_versions
BEGIN
    SELECT RAISE(ABORT, 'self-assessment versions are append-only');
END;
