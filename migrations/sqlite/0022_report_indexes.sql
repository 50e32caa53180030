-- The reports read a period's complaints by when they were received, and their events by
-- complaint and by when they happened (issue 13): without these, each report reads every
-- case and every event the record holds.
CREATE INDEX cases_by_received ON cases (received_at);
CREATE INDEX events_by_case ON events (case_reference, kind) WHERE case_reference IS NOT NULL;
CREATE INDEX events_of_cases_by_time ON events (kind, at) WHERE case_reference IS NOT NULL;
