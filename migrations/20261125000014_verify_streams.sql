-- Verification codes go out through one task per application, template, signature, carrier
-- and China day (a stream, see verify::stream): a getSms adds a message and its chunk, not a
-- task, and the engine claims a stream's waiting codes together.
ALTER TABLE tasks
    ADD COLUMN stream_day date,
    ADD CONSTRAINT tasks_stream_is_verify CHECK (stream_day IS NULL OR origin = 'verify'),
    -- A stream opens before its first code arrives.
    DROP CONSTRAINT tasks_recipients_check,
    ADD CONSTRAINT tasks_recipients_check
        CHECK (recipients > 0 OR (stream_day IS NOT NULL AND recipients = 0));
CREATE UNIQUE INDEX tasks_verify_stream
    ON tasks (application_id, template_id, signature_id, carrier_id, stream_day)
    WHERE stream_day IS NOT NULL;

-- Every code inserts a chunk of its stream: the foreign key's check would share-lock the
-- stream's task row thousands of times a second (multixacts on the row the engine updates).
-- Tasks are never deleted; messages have no such key for the same reason.
ALTER TABLE dispatch_chunks DROP CONSTRAINT dispatch_chunks_task_id_fkey;
