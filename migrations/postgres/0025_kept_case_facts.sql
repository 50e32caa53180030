-- What the reports need of a complaint after the retention purge erased its conversation
-- (issue 13): the dates of its acknowledgements, stage 2 request, extensions, responses and
-- exclusion, as events with every word taken out. The purge moves them here in the same
-- transaction as it erases the conversation's events, so each complaint's facts are in one
-- place or the other, never both, and the reports of erased periods count them once.
CREATE TABLE kept_events (
    id BIGSERIAL PRIMARY KEY,
    case_reference TEXT NOT NULL REFERENCES cases (reference),
    kind TEXT NOT NULL,
    -- Only the dates and the stage, as JSON (no definition, reasons or response text).
    detail TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX kept_events_by_case ON kept_events (case_reference, kind);
CREATE INDEX kept_events_by_time ON kept_events (kind, at);
