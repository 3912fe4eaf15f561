-- The verification-code service, configured per application: the template and signature codes
-- go out with, how long a code lives, and the anti-pumping limits of getSms. Browsers reach it
-- with the public key, which can only ask for a code to a number and check it.
CREATE TABLE verify_settings (
    application_id    bigint PRIMARY KEY REFERENCES applications (id),
    public_key        text NOT NULL UNIQUE,
    template_id       bigint REFERENCES templates (id) ON DELETE SET NULL,
    signature_id      bigint REFERENCES signatures (id) ON DELETE SET NULL,
    validity_minutes  integer NOT NULL DEFAULT 5 CHECK (validity_minutes BETWEEN 1 AND 60),
    -- getSms requests per hour from one client address / to one number prefix (0: no limit).
    per_ip_hourly     integer NOT NULL DEFAULT 20 CHECK (per_ip_hourly >= 0),
    per_prefix_hourly integer NOT NULL DEFAULT 200 CHECK (per_prefix_hourly >= 0),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- getSms requests the anti-pumping limits refused, per application, China-time day and limit.
CREATE TABLE verify_abuse (
    application_id bigint NOT NULL REFERENCES applications (id),
    day            date NOT NULL,
    limit_kind     text NOT NULL CHECK (limit_kind IN ('ip', 'prefix')),
    hits           bigint NOT NULL DEFAULT 0,
    last_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application_id, day, limit_kind)
);
