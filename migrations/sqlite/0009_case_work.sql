-- Case work: who handles each complaint (Code 6.13: stage 2 is handled by someone other than
-- the stage 1 handler), remedies and outstanding actions as records (6.9, 6.19), copies by
-- email for residents who chose replies by email, and staff linked to their Telegram and
-- Discord accounts so a manager can acknowledge an alert with a button in the chat.

ALTER TABLE cases ADD COLUMN handler_id INTEGER REFERENCES staff (id);

CREATE TABLE case_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_reference TEXT NOT NULL REFERENCES cases (reference),
    -- A remedy offered, or an action still to do.
    kind TEXT NOT NULL CHECK (kind IN ('remedy', 'action')),
    description TEXT NOT NULL,
    -- The date an action is promised by (YYYY-MM-DD), if any.
    due_on TEXT,
    created_by INTEGER NOT NULL REFERENCES staff (id),
    created_at INTEGER NOT NULL,
    done_at INTEGER,
    done_by INTEGER REFERENCES staff (id)
);

CREATE INDEX case_actions_by_case ON case_actions (case_reference, id);

-- A copy of a message to a resident who asked for replies by email, tried until it is sent.
CREATE TABLE resident_emails (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    case_reference TEXT,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sent_at INTEGER,
    last_error TEXT
);

CREATE INDEX resident_emails_due ON resident_emails (sent_at, next_attempt_at);

ALTER TABLE staff ADD COLUMN telegram_user_id TEXT;
ALTER TABLE staff ADD COLUMN discord_user_id TEXT;
-- One account per platform user, so an acknowledgement is credited to the right person.
CREATE UNIQUE INDEX staff_by_telegram_user ON staff (telegram_user_id);
CREATE UNIQUE INDEX staff_by_discord_user ON staff (discord_user_id);

-- The inbox, the scheduler's quiet-conversation sweep and its next-due query look these up.
CREATE INDEX conversations_by_update ON conversations (updated_at);
CREATE INDEX cases_by_conversation ON cases (conversation_id, created_at);
CREATE INDEX alerts_by_conversation ON alerts (conversation_id);
