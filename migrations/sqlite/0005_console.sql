-- The staff console: staff accounts, their sessions, conversations taken over by a person,
-- and the audit of every staff action (who, when, what). Times are Unix milliseconds.

CREATE TABLE staff (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('agent', 'complaints_officer', 'manager', 'admin')),
    -- Argon2id, in the PHC string format.
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE staff_sessions (
    -- SHA-256 of the cookie's random token: a copy of the database opens no session.
    token_hash TEXT PRIMARY KEY,
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    -- The form token that protects this session's forms against cross-site requests.
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- A conversation a member of staff has taken over: the bot is silent in it until it is
-- handed back. Current state only; the audit keeps the history.
CREATE TABLE claims (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id),
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    claimed_at INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL
);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    action TEXT NOT NULL,
    conversation_id INTEGER,
    case_reference TEXT,
    detail TEXT NOT NULL,
    at INTEGER NOT NULL
);

CREATE INDEX audit_by_conversation ON audit (conversation_id, id);

CREATE TRIGGER audit_is_never_edited BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit is append-only');
END;

CREATE TRIGGER audit_is_never_deleted BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit is append-only');
END;
