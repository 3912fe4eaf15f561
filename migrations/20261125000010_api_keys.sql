-- API key pairs for the Tencent-compatible API: the SecretId is public, the SecretKey is stored
-- sealed with HERALD_SECRET_KEY (secrets.rs) because TC3 signatures are verified with it.
CREATE TABLE api_keys (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id    bigint NOT NULL REFERENCES applications (id),
    secret_id         text NOT NULL UNIQUE CHECK (secret_id ~ '^AKID[A-Za-z0-9]{32}$'),
    secret_key_sealed text NOT NULL,
    created_by        bigint REFERENCES users (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    revoked_at        timestamptz,
    last_used_at      timestamptz
);
CREATE INDEX api_keys_application_idx ON api_keys (application_id, id);
