-- SendSms through the Tencent-compatible API: each request becomes a task of its own, sent by the
-- same engine as bulk tasks (limits, balance, receipts and statistics alike). Such a task has no
-- upload; it names the API key that sent it, and that key's creator if it has one.
ALTER TABLE tasks
    ALTER COLUMN upload_id DROP NOT NULL,
    ALTER COLUMN created_by DROP NOT NULL,
    ADD COLUMN api_key_id      bigint REFERENCES api_keys (id),
    -- Echoed to the caller with every status of the request's messages.
    ADD COLUMN session_context text NOT NULL DEFAULT '',
    ADD CONSTRAINT tasks_from_upload_or_api CHECK ((upload_id IS NULL) = (api_key_id IS NOT NULL));

-- Outcomes of API-sent messages waiting for PullSmsSendStatus, which hands each out once.
-- Kept a week when nobody pulls them (Tencent keeps pullable statuses for days, not forever).
CREATE TABLE status_outbox (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id bigint NOT NULL REFERENCES applications (id),
    message_id     bigint NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_outbox_application_idx ON status_outbox (application_id, id);
CREATE INDEX status_outbox_created_idx ON status_outbox (created_at);
