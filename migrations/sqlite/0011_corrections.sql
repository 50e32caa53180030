-- Staff marking an assessment wrong (issue 10): each correction is a labelled example for
-- `intake policy train --with-corrections`. Appended, never edited; erased with the
-- conversation's messages by the retention purge.
CREATE TABLE assessment_corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL REFERENCES messages (id),
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    -- dissatisfied, intent, route, emergency, health_safety, safeguarding, vulnerability or
    -- representative.
    field TEXT NOT NULL,
    -- true or false, or the intent or route.
    value TEXT NOT NULL,
    at INTEGER NOT NULL
);

CREATE INDEX assessment_corrections_by_message ON assessment_corrections (message_id, id);

CREATE TRIGGER assessment_corrections_are_never_edited BEFORE UPDATE ON assessment_corrections
BEGIN
    SELECT RAISE(ABORT, 'corrections are append-only');
END;
