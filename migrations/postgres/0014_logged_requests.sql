-- A tracked request staff logged from a message the bot did not recognise as one: who logged
-- it and when (the alert it raised is matched by that moment when the request is answered).
-- Null for a request the dialog recorded from the resident's own message.

ALTER TABLE requests ADD COLUMN logged_at BIGINT;
ALTER TABLE requests ADD COLUMN logged_by BIGINT REFERENCES staff (id);
