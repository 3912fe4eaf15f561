-- The dispatch engine: carriers, one row per recipient message, and the chunks workers lease.

-- Where messages go. `simulator` runs inside the server; `http` posts batches to any gateway
-- speaking Herald's JSON carrier protocol (the standalone simulator does).
CREATE TABLE carriers (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 60),
    kind          text NOT NULL CHECK (kind IN ('simulator', 'http')),
    -- Kind-specific settings (endpoint, secret, simulator rates); see dispatch::carriers.
    settings      jsonb NOT NULL DEFAULT '{}',
    -- Messages per second and calls in flight, per server process.
    rate_limit    integer NOT NULL DEFAULT 1000 CHECK (rate_limit > 0),
    concurrency   integer NOT NULL DEFAULT 4 CHECK (concurrency BETWEEN 1 AND 64),
    -- Carriers post delivery receipts to /receipts/{id}/{receipt_token}.
    receipt_token text NOT NULL,
    is_default    boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX carriers_one_default ON carriers (is_default) WHERE is_default;
INSERT INTO carriers (name, kind, settings, rate_limit, concurrency, receipt_token, is_default)
VALUES ('Simulator', 'simulator',
        '{"latency_ms": 20, "accept_rate": 0.98, "delivery_rate": 0.95, "transient_rate": 0.0, "receipt_delay_ms": 500, "seed": null}',
        5000, 4, md5(random()::text || clock_timestamp()::text), true);

ALTER TABLE tasks
    ADD COLUMN carrier_id        bigint REFERENCES carriers (id),
    ADD COLUMN first_message_id  bigint,
    ADD COLUMN last_message_id   bigint,
    ADD COLUMN delivered         integer NOT NULL DEFAULT 0,
    ADD COLUMN failed            integer NOT NULL DEFAULT 0,
    ADD COLUMN started_at        timestamptz,
    -- Paused by the marketing window (not by a person): resumes by itself when it opens.
    ADD COLUMN window_paused     boolean NOT NULL DEFAULT false;

-- One message per accepted recipient of a task. States (dispatch::model::MessageState):
-- 0 queued, 1 submitting, 2 submitted, 3 delivered, 4 failed, 5 rejected before sending,
-- 6 cancelled. Updated by primary-key ranges; no other index, so state changes stay HOT-friendly
-- (fillfactor leaves room on each page). No foreign key: it would cost the task's INSERT … SELECT
-- a lookup per row; tasks are never deleted.
CREATE TABLE messages (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id      bigint NOT NULL,
    phone        text NOT NULL,
    params       text[] NOT NULL,
    units        smallint NOT NULL,
    state        smallint NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 6),
    attempts     smallint NOT NULL DEFAULT 0,
    serial_no    text,
    -- The carrier's code (a failure, or a receipt's status), or why it was never sent.
    code         text,
    submitted_at timestamptz,
    done_at      timestamptz
) WITH (fillfactor = 70);

-- Work is claimed a chunk (a range of message ids) at a time, with a lease that expires so a dead
-- worker's chunk is picked up again.
CREATE TABLE dispatch_chunks (
    task_id     bigint NOT NULL REFERENCES tasks (id),
    first_id    bigint NOT NULL,
    last_id     bigint NOT NULL,
    done        boolean NOT NULL DEFAULT false,
    lease_owner uuid,
    lease_until timestamptz,
    PRIMARY KEY (task_id, first_id)
);
CREATE INDEX dispatch_chunks_open_idx ON dispatch_chunks (task_id, first_id) WHERE NOT done;

-- Receipts that arrived before their message's carrier result was recorded (a fast carrier can
-- answer the receipt before the submit call returns); applied when the result is recorded.
CREATE TABLE pending_receipts (
    message_id  bigint PRIMARY KEY,
    delivered   boolean NOT NULL,
    code        text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
