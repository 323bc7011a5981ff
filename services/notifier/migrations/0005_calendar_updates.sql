-- RFC 5546: what calendars were last told of each open course's sessions (calendar_updates.py),
-- and the calendar part of an e-mail notice: the sessions it requests or cancels
-- (channels/email.py; other channels have none).
ALTER TABLE patients
    ADD COLUMN IF NOT EXISTS calendar jsonb NOT NULL DEFAULT '[]';
ALTER TABLE deliveries
    ADD COLUMN IF NOT EXISTS calendar jsonb;
