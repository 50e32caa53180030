-- The monthly complaint handling summary for the governing body (Code 9.7), sent by email.
-- One row per month the scheduler sends automatically: the replica that claims the row sends
-- it, so a restart or a second replica never sends it twice, and a failed send keeps its
-- reason and is tried again later. Times are Unix milliseconds; months are 'YYYY-MM'.
CREATE TABLE governing_body_summaries (
    month TEXT PRIMARY KEY,
    -- Not tried before this: the month's due moment; while a replica sends it, the end of
    -- its claim (another may take it over after); after a failure, the next try.
    next_try_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at BIGINT
);

-- Every send, automatic or asked for, and every failed try: which month, who sent it
-- (staff_id NULL: the scheduler or the command line, as sent_by says), to whom, and the
-- reason when it failed. Append-only.
CREATE TABLE governing_body_summary_sends (
    id BIGSERIAL PRIMARY KEY,
    month TEXT NOT NULL,
    staff_id BIGINT REFERENCES staff (id),
    sent_by TEXT NOT NULL,
    recipients TEXT NOT NULL,
    error TEXT,
    at BIGINT NOT NULL
);

CREATE INDEX governing_body_summary_sends_by_month ON governing_body_summary_sends (month, id);

CREATE FUNCTION refuse_summary_send_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the record of summaries sent is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER governing_body_summary_sends_are_never_changed BEFORE UPDATE OR DELETE ON governing_body_summary_sends
    FOR EACH ROW EXECUTE FUNCTION refuse_summary_send_change();
