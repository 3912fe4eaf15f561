-- Sends that are not bulk tasks: SendSms through the Tencent-compatible API and codes of the
-- verification service. Each request becomes a task of its own, sent by the same engine as bulk
-- tasks (limits, balance, receipts and statistics alike). Such a task has no upload; an API one
-- names the key that sent it; either names the key's (or application's) creator if there is one.
ALTER TABLE tasks
    ALTER COLUMN upload_id DROP NOT NULL,
    ALTER COLUMN created_by DROP NOT NULL,
    ADD COLUMN origin          text NOT NULL DEFAULT 'console'
                               CHECK (origin IN ('console', 'api', 'verify')),
    ADD COLUMN api_key_id      bigint REFERENCES api_keys (id),
    -- Echoed to the caller with every status of the request's messages.
    ADD COLUMN session_context text NOT NULL DEFAULT '',
    ADD CONSTRAINT tasks_origin_fits
        CHECK ((origin = 'console') = (upload_id IS NOT NULL)
               AND (origin = 'api') = (api_key_id IS NOT NULL));

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
