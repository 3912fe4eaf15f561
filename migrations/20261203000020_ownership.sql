-- Who may touch what.
--
-- A message records the carrier that took it, so a receipt counts only at that carrier's receipt
-- path; a receipt that arrives while the message is being handed over waits with the carrier it
-- came from and is dropped if another carrier took the message. Messages recorded before this
-- have no carrier: their task's carrier stands for it.
ALTER TABLE messages ADD COLUMN carrier_id bigint;
ALTER TABLE pending_receipts ADD COLUMN carrier_id bigint;
-- Receipts kept for messages that were not even handed over yet cannot be genuine.
DELETE FROM pending_receipts p USING messages m WHERE m.id = p.message_id AND m.state = 0;

-- A template or signature made through the API belongs to the application whose key made it:
-- only that application's keys change or delete it. Made in the console (no application), it is
-- changed in the console.
ALTER TABLE templates ADD COLUMN application_id bigint REFERENCES applications (id);
ALTER TABLE signatures ADD COLUMN application_id bigint REFERENCES applications (id);

-- A day's verification stream that stopped sending (cancelled, say) is closed: the next code
-- opens a new stream for the day instead of queueing behind one the engine no longer claims.
-- At most one open stream per application, template, signature, carrier and day.
DROP INDEX tasks_verify_stream;
CREATE UNIQUE INDEX tasks_one_open_stream_per_day
    ON tasks (application_id, template_id, signature_id, carrier_id, stream_day)
    WHERE stream_day IS NOT NULL AND status = 'sending';
