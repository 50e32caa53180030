-- Who a conversation is assigned to (issue 12): a colleague or a team from the configuration
-- (`[[console.teams]]`). Separate from a claim (taking the conversation over from the bot) and
-- from a complaint's handler (Code 6.13). Current state only; the audit keeps who assigned it
-- to whom, and when.
CREATE TABLE assignments (
    conversation_id BIGINT PRIMARY KEY REFERENCES conversations (id),
    staff_id BIGINT REFERENCES staff (id),
    team TEXT,
    assigned_by BIGINT NOT NULL REFERENCES staff (id),
    assigned_at BIGINT NOT NULL,
    CHECK ((staff_id IS NULL) <> (team IS NULL))
);
