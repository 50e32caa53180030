-- Standard messages kept in the record and edited by managers in the console (issue 12).
-- `standard_messages` is each message's current state (what the reply box offers; retired
-- ones are hidden from it); `standard_message_versions` keeps every name and text it ever
-- had, who wrote it (NULL: seeded from the shipped or landlord file) and when. Each change is
-- also in the console's audit. Times are Unix milliseconds.

CREATE TABLE standard_messages (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    text TEXT NOT NULL,
    version BIGINT NOT NULL,
    retired_at BIGINT,
    updated_by BIGINT REFERENCES staff (id),
    updated_at BIGINT NOT NULL
);

CREATE TABLE standard_message_versions (
    message_id BIGINT NOT NULL REFERENCES standard_messages (id),
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    text TEXT NOT NULL,
    staff_id BIGINT REFERENCES staff (id),
    at BIGINT NOT NULL,
    PRIMARY KEY (message_id, version)
);

-- refuse_audit_change() is the audit's own guard (0005).
CREATE TRIGGER standard_message_versions_are_never_changed BEFORE UPDATE OR DELETE ON standard_message_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
