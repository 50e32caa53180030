-- Search in the console (issue 12): the words of every message, indexed for full-text search.
-- An index on the expression stays current by itself as messages are recorded and erased,
-- and is built over the messages already recorded when it is created. The 'simple'
-- configuration: no stemming and no stop words, so names, postcodes, references and words
-- such as "not" match as typed, as SQLite's FTS5 index does.
CREATE INDEX message_words ON messages USING GIN (to_tsvector('simple', body));
