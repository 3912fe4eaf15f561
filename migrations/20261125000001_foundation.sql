-- Herald is installed once per company: exactly one organisation row.
CREATE TABLE organisation (
    id           smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    account_type text NOT NULL CHECK (account_type IN ('individual', 'organisation')),
    verified     boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text NOT NULL,
    display_name  text NOT NULL,
    password_hash text NOT NULL,
    roles         text[] NOT NULL
                  CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['admin', 'operator', 'marketer']),
    -- Bumped on disable and password reset; sessions carrying an older value are void.
    session_epoch integer NOT NULL DEFAULT 0,
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Failed sign-ins, counted per typed e-mail and per client address to throttle guessing.
CREATE TABLE login_failures (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email     text NOT NULL,
    ip        text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (email, failed_at);
CREATE INDEX login_failures_ip_idx ON login_failures (ip, failed_at);

CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    bigint REFERENCES users (id),
    -- Kept as written at the time, so the record reads the same after the user changes.
    actor_email text,
    action      text NOT NULL,
    object_type text NOT NULL,
    object_id   text,
    ip          text,
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id DESC);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, id DESC);
