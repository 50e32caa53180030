-- Each channel's sender reads its due replies in id order, and the chats held back behind a
-- reply that is waiting to be tried again. Two single-table range scans on these partial
-- indexes, so the plan does not hang on the planner's statistics (an anti-join chose a nested
-- loop on stale statistics and took seconds under load).
CREATE INDEX outbox_pending_in_order ON outbox (channel, id) WHERE sent_at IS NULL;
CREATE INDEX outbox_waiting ON outbox (channel, next_attempt_at) WHERE sent_at IS NULL;
