-- Complaints, the events of every conversation (offers and answers, consent, requests), and
-- alerts for managers. Events are appended, never edited.

CREATE TABLE cases (
    reference TEXT PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    stage INTEGER NOT NULL,
    status TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    acknowledged_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    -- The complaint definition as read back to the resident (Code 5.6).
    definition TEXT NOT NULL,
    -- The resident's answers (representative, adjustments, contact), as JSON.
    answers TEXT NOT NULL,
    -- A route other than complaints, suggested for staff to confirm (Code 2.5).
    suggested_route TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    case_reference TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    at INTEGER NOT NULL
);

CREATE INDEX events_by_conversation ON events (conversation_id, id);

CREATE TRIGGER events_are_never_edited BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only (Code 5.12)');
END;

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    kind TEXT NOT NULL,
    -- 1 for emergencies and safeguarding: sent at once, at any hour.
    urgent INTEGER NOT NULL,
    detail TEXT NOT NULL,
    at INTEGER NOT NULL,
    acknowledged_at INTEGER
);
