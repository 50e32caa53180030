-- Rate limits shared by every replica (issue 15): a token bucket per limit and key (a hash of
-- the client address, session or sign-in email). `granted` is whether the last take got a
-- token, returned by the same statement that took it. Rows of full buckets are swept.

CREATE TABLE limit_buckets (
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    tokens DOUBLE PRECISION NOT NULL,
    updated_at BIGINT NOT NULL,
    granted BOOLEAN NOT NULL,
    PRIMARY KEY (name, key)
);

CREATE INDEX limit_buckets_by_age ON limit_buckets (name, updated_at);
