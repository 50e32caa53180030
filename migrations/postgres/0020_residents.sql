-- A resident as staff know them across conversations and channels (issue 12): staff link a
-- conversation to a resident, never the bot, since two people may share a name and one person
-- may write from several accounts. A resident exists only while a conversation is linked to
-- them: unlinking the last one, or the retention purge erasing it, removes the resident too,
-- so no personal data is left without its record. The audit keeps who linked what, and when.
CREATE TABLE residents (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES staff (id),
    created_at BIGINT NOT NULL
);

-- A conversation belongs to at most one resident.
CREATE TABLE resident_links (
    conversation_id BIGINT PRIMARY KEY REFERENCES conversations (id),
    resident_id BIGINT NOT NULL REFERENCES residents (id),
    linked_by BIGINT NOT NULL REFERENCES staff (id),
    linked_at BIGINT NOT NULL
);

CREATE INDEX resident_links_by_resident ON resident_links (resident_id);
