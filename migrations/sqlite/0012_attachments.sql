-- Files residents send in the web chat (photos of damp and mould, letters, PDFs): part of the
-- record (Code 5.12), kept in the database itself so that a backup, a replica and the
-- retention purge treat them as the messages they came with. The id is a random 128-bit token
-- (hex), so a file's address cannot be guessed. The content type is the one read from the
-- bytes, never the one the browser claimed. Appended, never edited; erased with the
-- conversation's personal data by the retention purge.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages (id),
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    -- The file's name as the resident gave it, without any folder or control characters.
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    -- Hex SHA-256 of the bytes, so a copy handed on can be shown to be the one received.
    sha256 TEXT NOT NULL,
    bytes BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX attachments_by_conversation ON attachments (conversation_id, created_at);
CREATE INDEX attachments_by_message ON attachments (message_id);

CREATE TRIGGER attachments_are_never_edited BEFORE UPDATE ON attachments
BEGIN
    SELECT RAISE(ABORT, 'attachments are append-only (Code 5.12)');
END;
