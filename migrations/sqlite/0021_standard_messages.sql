-- Standard messages kept in the record and edited by managers in the console (issue 12).
-- `standard_messages` is each message's current state (what the reply box offers; retired
-- ones are hidden from it); `standard_message_versions` keeps every name and text it ever
-- had, who wrote it (NULL: seeded from the shipped or landlord file) and when. Each change is
-- also in the console's audit. Times are Unix milliseconds.

CREATE TABLE standard_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    text TEXT NOT NULL,
    version INTEGER NOT NULL,
    retired_at INTEGER,
    updated_by INTEGER REFERENCES staff (id),
    updated_at INTEGER NOT NULL
);

CREATE TABLE standard_message_versions (
    message_id INTEGER NOT NULL REFERENCES standard_messages (id),
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    text TEXT NOT NULL,
    staff_id INTEGER REFERENCES staff (id),
    at INTEGER NOT NULL,
    PRIMARY KEY (message_id, version)
);

CREATE TRIGGER standard_message_versions_are_never_edited BEFORE UPDATE ON standard_message_versions
BEGIN
    SELECT RAISE(ABORT, 'standard message versions are append-only');
END;

CREATE TRIGGER standard_message_versions_are_never_deleted BEFORE DELETE ON standard_message_versions
BEGIN
    SELECT RAISE(ABORT, 'standard message versions are append-only');
END;
