-- Internal notes staff keep on a conversation; residents never see them. Appended, never
-- edited.
CREATE TABLE notes (
    id BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id),
    staff_id BIGINT NOT NULL REFERENCES staff (id),
    body TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE INDEX notes_by_conversation ON notes (conversation_id, id);

CREATE TRIGGER notes_are_never_edited BEFORE UPDATE ON notes
    FOR EACH ROW EXECUTE FUNCTION refuse_edit();
