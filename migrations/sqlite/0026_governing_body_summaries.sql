-- The monthly complaint handling summary for the governing body (Code 9.7), sent by email.
-- One row per month the scheduler sends automatically: the replica that claims the row sends
-- it, so a restart or a second replica never sends it twice, and a failed send keeps its
-- reason and is tried again later. Times are Unix milliseconds; months are 'YYYY-MM'.
CREATE TABLE governing_body_summaries (
    month TEXT PRIMARY KEY,
    -- Not tried before this: the month's due moment; while a replica sends it, the end of
    -- its claim (another may take it over after); after a failure, the next try.
    next_try_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at INTEGER
);

-- Every send, automatic or asked for, and every failed try: which month, who sent it
-- (staff_id NULL: the scheduler or the command line, as sent_by says), to whom, and the
-- reason when it failed. Append-only.
CREATE TABLE governing_body_summary_sends (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    month TEXT NOT NULL,
    staff_id INTEGER REFERENCES staff (id),
    sent_by TEXT NOT NULL,
    recipients TEXT NOT NULL,
    error TEXT,
    at INTEGER NOT NULL
);

CREATE INDEX governing_body_summary_sends_by_month ON governing_body_summary_sends (month, id);

CREATE TRIGGER governing_body_summary_sends_are_never_edited BEFORE UPDATE ON governing_body_summary_sends
BEGIN
    SELECT RAISE(ABORT, 'the record of summaries sent is append-only');
END;

CREATE TRIGGER governing_body_summary_sends_are_never_deleted BEFORE DELETE ON governing_body_summary_sends
BEGIN
    SELECT RAISE(ABORT, 'the record of summaries sent is append-only');
END;
