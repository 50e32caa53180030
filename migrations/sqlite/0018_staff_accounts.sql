-- Staff accounts administered from the console and the command line (issue 12): an account
-- can be disabled (its sessions end and it cannot sign in, but its name stays on everything
-- it did), the last sign-in is shown to admins, an optional TOTP second factor (RFC 6238),
-- and the audit of every change to an account. Times are Unix milliseconds.

ALTER TABLE staff ADD COLUMN disabled_at INTEGER;
ALTER TABLE staff ADD COLUMN last_sign_in_at INTEGER;
-- The TOTP secret, base32; it counts only once `totp_enabled_at` is set (after the holder
-- confirmed a code made from it).
ALTER TABLE staff ADD COLUMN totp_secret TEXT;
ALTER TABLE staff ADD COLUMN totp_enabled_at INTEGER;
-- The last 30-second step a code was accepted for: a code is never accepted twice.
ALTER TABLE staff ADD COLUMN totp_last_step INTEGER;

-- A sign-in whose password was right and whose second factor is awaited: known by the hash
-- of a short-lived cookie token, so the code form cannot be posted for another account.
CREATE TABLE staff_sign_in_challenges (
    token_hash TEXT PRIMARY KEY,
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    expires_at INTEGER NOT NULL
);

-- Every change to a staff account: who made it (NULL: the command line), to whose account,
-- what, and when. Never the password itself.
CREATE TABLE staff_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id INTEGER REFERENCES staff (id),
    staff_id INTEGER NOT NULL REFERENCES staff (id),
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    at INTEGER NOT NULL
);

CREATE INDEX staff_audit_by_account ON staff_audit (staff_id, id);

CREATE TRIGGER staff_audit_is_never_edited BEFORE UPDATE ON staff_audit
BEGIN
    SELECT RAISE(ABORT, 'the staff audit is append-only');
END;

CREATE TRIGGER staff_audit_is_never_deleted BEFORE DELETE ON staff_audit
BEGIN
    SELECT RAISE(ABORT, 'the staff audit is append-only');
END;
