-- Counters handed out one at a time under a row lock, so two complaints opened at once never
-- get the same reference.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

INSERT INTO counters (name, value) VALUES ('case_reference', 0);
