-- Alerts to managers: each delivery to each sink, tried until it is sent, and scheduled jobs
-- that must happen once (a deadline warning, an escalation): the first replica to insert the
-- row does the work, so with several replicas every alert still fires once.

CREATE TABLE alert_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id INTEGER NOT NULL REFERENCES alerts (id),
    -- The sink's name in the configuration.
    sink TEXT NOT NULL,
    -- 0 for the first people told; 1, 2... as an unacknowledged urgent alert moves up the chain.
    level INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sent_at INTEGER,
    last_error TEXT,
    UNIQUE (alert_id, sink)
);

CREATE TABLE scheduled_once (
    job TEXT NOT NULL,
    key TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (job, key)
);

ALTER TABLE alerts ADD COLUMN acknowledged_by INTEGER REFERENCES staff (id);
-- How far up the escalation chain an urgent alert has gone.
ALTER TABLE alerts ADD COLUMN level INTEGER NOT NULL DEFAULT 0;
