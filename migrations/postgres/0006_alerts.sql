-- Alerts to managers: each delivery to each sink, tried until it is sent, and scheduled jobs
-- that must happen once (a deadline warning, an escalation): the first replica to insert the
-- row does the work, so with several replicas every alert still fires once.

CREATE TABLE alert_deliveries (
    id BIGSERIAL PRIMARY KEY,
    alert_id BIGINT NOT NULL REFERENCES alerts (id),
    -- The sink's name in the configuration.
    sink TEXT NOT NULL,
    -- 0 for the first people told; 1, 2... as an unacknowledged urgent alert moves up the chain.
    level BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT,
    UNIQUE (alert_id, sink)
);

CREATE TABLE scheduled_once (
    job TEXT NOT NULL,
    key TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (job, key)
);

ALTER TABLE alerts ADD COLUMN acknowledged_by BIGINT REFERENCES staff (id);
-- How far up the escalation chain an urgent alert has gone.
ALTER TABLE alerts ADD COLUMN level BIGINT NOT NULL DEFAULT 0;
