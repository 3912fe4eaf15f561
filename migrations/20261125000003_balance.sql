-- Prepaid SMS packages: each billable segment consumes one unit.
CREATE TABLE sms_packages (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    units        bigint NOT NULL CHECK (units > 0),
    -- Tencent's PackageType: 0 gift, 1 purchased.
    package_type smallint NOT NULL CHECK (package_type IN (0, 1)),
    effective_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz CHECK (expires_at IS NULL OR expires_at > effective_at),
    used         bigint NOT NULL DEFAULT 0,
    -- Held for started tasks that have not sent yet.
    reserved     bigint NOT NULL DEFAULT 0,
    note         text NOT NULL DEFAULT '',
    created_by   bigint REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (used >= 0 AND reserved >= 0 AND used + reserved <= units)
);
-- Units are drawn from the package that expires first.
CREATE INDEX sms_packages_spend_order_idx ON sms_packages (expires_at NULLS LAST, id);
