-- Closing complaints, and the retention purge: a configured time after a complaint closes,
-- the personal data of its conversation is erased and only anonymised counts are kept.
ALTER TABLE cases ADD COLUMN closed_at INTEGER;
ALTER TABLE cases ADD COLUMN erased_at INTEGER;

CREATE TABLE retention_counts (
    -- The month the complaint was received (YYYY-MM), its channel, final stage and status.
    month TEXT NOT NULL,
    channel TEXT NOT NULL,
    stage INTEGER NOT NULL,
    status TEXT NOT NULL,
    complaints INTEGER NOT NULL,
    PRIMARY KEY (month, channel, stage, status)
);
