-- Counters maintained as messages are sent and receipts arrive, so analytics and statistics never
-- scan the message table.

-- The mainland operator a number belongs to, by prefix (numbers::MobileCarrier, same table):
-- 1 China Mobile, 2 China Unicom, 3 China Telecom, 0 anything else (international).
CREATE FUNCTION mobile_operator(phone text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN phone !~ '^\+861[0-9]{10}$' THEN 0
        WHEN substr(phone, 4, 3) IN ('134', '135', '136', '137', '138', '139', '147', '150', '151',
                                     '152', '157', '158', '159', '178', '182', '183', '184', '187',
                                     '188', '195', '197', '198') THEN 1
        WHEN substr(phone, 4, 3) IN ('130', '131', '132', '145', '155', '156', '166', '175', '176',
                                     '185', '186', '196') THEN 2
        WHEN substr(phone, 4, 3) IN ('133', '149', '153', '173', '177', '180', '181', '189', '190',
                                     '191', '193', '199') THEN 3
        ELSE 0
    END::smallint
$$;

-- Per task and minute: messages the carrier took or refused, and receipts by outcome.
CREATE TABLE task_minutes (
    task_id   bigint NOT NULL REFERENCES tasks (id),
    minute    timestamptz NOT NULL,
    submitted integer NOT NULL DEFAULT 0,
    refused   integer NOT NULL DEFAULT 0,
    delivered integer NOT NULL DEFAULT 0,
    failed    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, minute)
);

-- Per task: receipts by how long they took after the carrier took the message
-- (stats::model::LATENCY_BUCKETS).
CREATE TABLE task_latency (
    task_id  bigint NOT NULL REFERENCES tasks (id),
    bucket   smallint NOT NULL,
    receipts integer NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, bucket)
);

-- Per task: messages that did not arrive, by the carrier's (or Herald's) code.
CREATE TABLE task_failures (
    task_id  bigint NOT NULL REFERENCES tasks (id),
    code     text NOT NULL,
    messages integer NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, code)
);

-- Per task and mobile operator.
CREATE TABLE task_operators (
    task_id    bigint NOT NULL REFERENCES tasks (id),
    operator   smallint NOT NULL,
    recipients integer NOT NULL DEFAULT 0,
    submitted  integer NOT NULL DEFAULT 0,
    delivered  integer NOT NULL DEFAULT 0,
    failed     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, operator)
);

-- Business statistics per hour (the hour a message was handled), application, signature, template
-- and SMS type: Tencent's SendStatusStatistics (requests, successful submissions, fee units) and
-- CallbackStatusStatistics (receipts by outcome).
CREATE TABLE stats_hourly (
    hour           timestamptz NOT NULL,
    application_id bigint NOT NULL,
    signature_id   bigint NOT NULL,
    template_id    bigint NOT NULL,
    sms_type       smallint NOT NULL,
    requests       bigint NOT NULL DEFAULT 0,
    submitted      bigint NOT NULL DEFAULT 0,
    units          bigint NOT NULL DEFAULT 0,
    receipts_ok    bigint NOT NULL DEFAULT 0,
    receipts_fail  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, application_id, signature_id, template_id, sms_type)
);
CREATE INDEX stats_hourly_application_idx ON stats_hourly (application_id, hour);

-- Receipts Herald could not match to any message (a carrier's retries of something long gone,
-- another system's traffic), counted per source for the dashboard.
CREATE TABLE unmatched_receipts (
    source   text PRIMARY KEY,
    receipts bigint NOT NULL DEFAULT 0,
    last_at  timestamptz NOT NULL DEFAULT now()
);

-- Each application gets a receipt endpoint of its own: /receipts/app/{SmsSdkAppId}/{token}.
ALTER TABLE applications ADD COLUMN receipt_token text NOT NULL
    DEFAULT md5(random()::text || clock_timestamp()::text);
