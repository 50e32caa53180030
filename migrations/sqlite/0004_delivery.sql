-- Delivery by channel: each channel's sender asks for its own due replies, in order per chat,
-- so a reply never overtakes an earlier one to the same resident.
CREATE INDEX outbox_pending_by_chat ON outbox (channel, chat, id) WHERE sent_at IS NULL;
