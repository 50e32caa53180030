-- Internal notes staff keep on a conversation; residents never see them. Appended, never
-- edited.
CREATE TABLE notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    body TEXT NOT NULL,
    at INTEGER NOT NULL
);

CREATE INDEX notes_by_conversation ON notes (conversation_id, id);

CREATE TRIGGER notes_are_never_edited BEFORE UPDATE ON notes
BEGIN
    SELECT RAISE(ABORT, 'notes are append-only');
END;
