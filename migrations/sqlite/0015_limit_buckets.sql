-- Rate limits shared by replicas live in PostgreSQL's `limit_buckets` (issue 15). SQLite is
-- one process, whose limits are kept in memory; this step keeps the two folders' numbering
-- the same.
SELECT 1;
