-- The conversation record (Code 5.12): every message both ways, the assessment of each
-- inbound message, and the outbox of replies waiting to be delivered. Times are Unix
-- milliseconds (UTC). Messages are appended, never edited.

CREATE TABLE conversations (
    id BIGSERIAL PRIMARY KEY,
    channel TEXT NOT NULL,
    chat TEXT NOT NULL,
    -- The dialog state, as JSON; current state is kept alongside the append-only record.
    state TEXT NOT NULL,
    locale TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (channel, chat)
);

CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    channel TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    -- resident, bot, or staff:<account>
    author TEXT NOT NULL,
    -- The platform's id of an inbound message, so a redelivered update is recorded once.
    platform_message_id TEXT,
    body TEXT NOT NULL,
    -- JSON list of attachments (kind, platform file id, name, size).
    attachments TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE UNIQUE INDEX messages_inbound_once
    ON messages (channel, platform_message_id)
    WHERE direction = 'in' AND platform_message_id IS NOT NULL;

CREATE INDEX messages_by_conversation ON messages (conversation_id, id);

CREATE FUNCTION refuse_edit() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% are append-only (Code 5.12)', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER messages_are_never_edited BEFORE UPDATE ON messages
    FOR EACH ROW EXECUTE FUNCTION refuse_edit();

CREATE TABLE assessments (
    message_id BIGINT PRIMARY KEY REFERENCES messages (id),
    -- The policy engine's assessment with its reasons and provisions, as JSON.
    assessment TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE TRIGGER assessments_are_never_edited BEFORE UPDATE ON assessments
    FOR EACH ROW EXECUTE FUNCTION refuse_edit();

CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES messages (id),
    channel TEXT NOT NULL,
    chat TEXT NOT NULL,
    -- What the channel sends: text and choices, as JSON.
    payload TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT
);

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
