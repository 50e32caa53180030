-- Complaints, the events of every conversation (offers and answers, consent, requests), and
-- alerts for managers. Events are appended, never edited.

CREATE TABLE cases (
    reference TEXT PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    stage BIGINT NOT NULL,
    status TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    acknowledged_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    -- The complaint definition as read back to the resident (Code 5.6).
    definition TEXT NOT NULL,
    -- The resident's answers (representative, adjustments, contact), as JSON.
    answers TEXT NOT NULL,
    -- A route other than complaints, suggested for staff to confirm (Code 2.5).
    suggested_route TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    case_reference TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE INDEX events_by_conversation ON events (conversation_id, id);

CREATE TRIGGER events_are_never_edited BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION refuse_edit();

CREATE TABLE alerts (
    id BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    kind TEXT NOT NULL,
    -- 1 for emergencies and safeguarding: sent at once, at any hour.
    urgent BIGINT NOT NULL,
    detail TEXT NOT NULL,
    at BIGINT NOT NULL,
    acknowledged_at BIGINT
);
