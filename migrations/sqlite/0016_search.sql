-- Search in the console (issue 12): the words of every message in a full-text index (FTS5),
-- kept current by triggers as messages are recorded and erased by the retention purge
-- (messages are never edited). No stemming and no accent folding, as PostgreSQL's 'simple'
-- configuration: names, postcodes and references match as typed, the same on both.
CREATE VIRTUAL TABLE message_words USING fts5(
    body,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER message_words_on_insert AFTER INSERT ON messages
BEGIN
    INSERT INTO message_words (rowid, body) VALUES (new.id, new.body);
END;

CREATE TRIGGER message_words_on_delete AFTER DELETE ON messages
BEGIN
    INSERT INTO message_words (message_words, rowid, body) VALUES ('delete', old.id, old.body);
END;

-- The messages recorded before this step.
INSERT INTO message_words (message_words) VALUES ('rebuild');
