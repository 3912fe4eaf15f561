-- Applications, signatures, templates and their review; notifications; alarm contacts.

-- Phrases that end a marketing template (the first is Tencent's); admins edit the list.
ALTER TABLE organisation
    ADD COLUMN unsubscribe_phrases text[] NOT NULL
        DEFAULT ARRAY['拒收请回复R', '回T退订', 'Reply T to unsubscribe', 'Reply STOP to opt out'];

CREATE TABLE applications (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sdk_app_id   bigint NOT NULL UNIQUE CHECK (sdk_app_id BETWEEN 1400000000 AND 1499999999),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    enabled      boolean NOT NULL DEFAULT true,
    callback_url text,
    description  text NOT NULL DEFAULT '',
    created_by   bigint REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Certificates and authorisation letters, kept with the data they prove.
CREATE TABLE documents (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    media_type  text NOT NULL CHECK (media_type IN ('image/png', 'image/jpeg', 'application/pdf')),
    bytes       bytea NOT NULL CHECK (length(bytes) BETWEEN 1 AND 5242880),
    file_name   text NOT NULL DEFAULT '',
    uploaded_by bigint NOT NULL REFERENCES users (id),
    uploaded_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE signatures (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    content          text NOT NULL CHECK (char_length(content) BETWEEN 2 AND 12),
    purpose          smallint NOT NULL CHECK (purpose IN (0, 1)),
    sign_type        smallint NOT NULL CHECK (sign_type IN (0, 1, 4, 5)),
    document_type    smallint NOT NULL CHECK (document_type IN (0, 1, 2, 3, 4, 7)),
    international    boolean NOT NULL DEFAULT false,
    remark           text NOT NULL DEFAULT '',
    certificate_id   bigint NOT NULL REFERENCES documents (id),
    authorisation_id bigint REFERENCES documents (id),
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    review_reply     text,
    submitted_by     bigint NOT NULL REFERENCES users (id),
    reviewed_by      bigint REFERENCES users (id),
    reviewed_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (purpose = 0 OR authorisation_id IS NOT NULL),
    CHECK ((status = 'rejected') = (review_reply IS NOT NULL))
);
-- One live signature per content: a second pending or approved one is refused.
CREATE UNIQUE INDEX signatures_live_content_key ON signatures (content)
    WHERE status IN ('pending', 'approved');
CREATE INDEX signatures_pending_idx ON signatures (updated_at) WHERE status = 'pending';

CREATE TABLE templates (
    id            bigint GENERATED ALWAYS AS IDENTITY (START WITH 1000001) PRIMARY KEY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    sms_type      smallint NOT NULL CHECK (sms_type IN (1, 2, 3)),
    content       text NOT NULL CHECK (char_length(content) BETWEEN 1 AND 500),
    international boolean NOT NULL DEFAULT false,
    remark        text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    review_reply  text,
    submitted_by  bigint NOT NULL REFERENCES users (id),
    reviewed_by   bigint REFERENCES users (id),
    reviewed_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'rejected') = (review_reply IS NOT NULL))
);
CREATE INDEX templates_pending_idx ON templates (updated_at) WHERE status = 'pending';

CREATE TABLE notifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id),
    title      text NOT NULL,
    body       text NOT NULL DEFAULT '',
    link       text,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at    timestamptz
);
CREATE INDEX notifications_unread_idx ON notifications (user_id, id DESC) WHERE read_at IS NULL;
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);

CREATE TABLE alarm_contacts (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    email          text,
    phone          text,
    webhook_url    text,
    webhook_secret text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((webhook_url IS NULL) = (webhook_secret IS NULL))
);

-- Outgoing signed event deliveries, retried with backoff until delivered or given up.
CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        uuid NOT NULL,
    contact_id      bigint NOT NULL REFERENCES alarm_contacts (id) ON DELETE CASCADE,
    event_type      text NOT NULL,
    payload         jsonb NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    failed_at       timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, contact_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
