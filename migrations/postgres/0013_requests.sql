-- Tracked requests: a resident's request about their personal data (UK GDPR arts. 15 to 21,
-- answered within one calendar month, extendable once by up to two more, art. 12(3)) or for
-- an interpreter (Code 5.10), with its due date and what staff did about it. Dates are
-- YYYY-MM-DD in the landlord's time zone, as cases keep them; times are Unix milliseconds.

CREATE TABLE requests (
    id BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    kind TEXT NOT NULL
        CHECK (kind IN ('access', 'erasure', 'rectification', 'objection', 'interpreter')),
    -- What the resident asked, in their words; for an interpreter, the language named.
    detail TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    due_on TEXT NOT NULL,
    -- Art. 12(3): once, with the reason told to the resident within the first month.
    extended_due_on TEXT,
    extension_reason TEXT,
    answered_at BIGINT,
    answered_by BIGINT REFERENCES staff (id),
    -- What was done, as the resident was told it.
    answer TEXT
);

-- Open requests by the date they fall due: the scheduler's reminders and the requests page.
CREATE INDEX requests_open_by_due ON requests (due_on) WHERE answered_at IS NULL;
CREATE INDEX requests_by_conversation ON requests (conversation_id, id);

-- When a console session was last used (at most once a minute is written), so the bot can
-- tell whether a manager is watching the console before it says one has been told.
ALTER TABLE staff_sessions ADD COLUMN last_seen_at BIGINT;
