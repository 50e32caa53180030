-- Staff marking an assessment wrong (issue 10): each correction is a labelled example for
-- `intake policy train --with-corrections`. Appended, never edited; erased with the
-- conversation's messages by the retention purge.
CREATE TABLE assessment_corrections (
    id BIGSERIAL PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES messages (id),
    staff_id BIGINT NOT NULL REFERENCES staff (id),
    -- dissatisfied, intent, route, emergency, health_safety, safeguarding, vulnerability or
    -- representative.
    field TEXT NOT NULL,
    -- true or false, or the intent or route.
    value TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE INDEX assessment_corrections_by_message ON assessment_corrections (message_id, id);

CREATE TRIGGER assessment_corrections_are_never_edited BEFORE UPDATE ON assessment_corrections
    FOR EACH ROW EXECUTE FUNCTION refuse_edit();
