-- Closing complaints, and the retention purge: a configured time after a complaint closes,
-- the personal data of its conversation is erased and only anonymised counts are kept.
ALTER TABLE cases ADD COLUMN closed_at BIGINT;
ALTER TABLE cases ADD COLUMN erased_at BIGINT;

CREATE TABLE retention_counts (
    -- The month the complaint was received (YYYY-MM), its channel, final stage and status.
    month TEXT NOT NULL,
    channel TEXT NOT NULL,
    stage BIGINT NOT NULL,
    status TEXT NOT NULL,
    complaints BIGINT NOT NULL,
    PRIMARY KEY (month, channel, stage, status)
);
