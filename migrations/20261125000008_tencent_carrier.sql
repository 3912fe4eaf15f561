-- Tencent Cloud SMS as a carrier; applications choosing their carrier and their frequency limits.

ALTER TABLE carriers DROP CONSTRAINT carriers_kind_check,
    ADD CONSTRAINT carriers_kind_check CHECK (kind IN ('simulator', 'http', 'tencent'));

-- An application's messages go through this carrier unless a task names another; NULL means the
-- default carrier.
ALTER TABLE applications ADD COLUMN carrier_id bigint REFERENCES carriers (id) ON DELETE SET NULL;
-- Overrides of Tencent's default limits (limits::FrequencyRules); empty means the defaults.
ALTER TABLE applications ADD COLUMN frequency_rules jsonb NOT NULL DEFAULT '{}';

-- Serials that do not carry Herald's message key (Tencent's), so receipts find their message.
-- Kept apart from `messages` so its state changes stay free of index maintenance.
CREATE TABLE carrier_serials (
    carrier_id bigint NOT NULL,
    serial_no  text NOT NULL,
    message_id bigint NOT NULL,
    PRIMARY KEY (carrier_id, serial_no)
);

-- A receipt whose serial is not recorded yet (it came before the send result was stored); moved
-- to `pending_receipts` when the serial is recorded, or when an unconfirmed message it names (by
-- number and the batch's id range, from its SessionContext) is recorded.
CREATE TABLE carrier_receipts_early (
    carrier_id  bigint NOT NULL,
    serial_no   text NOT NULL,
    delivered   boolean NOT NULL,
    code        text NOT NULL,
    phone       text,
    first_id    bigint,
    last_id     bigint,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (carrier_id, serial_no)
);

-- Messages a carrier that cannot deduplicate may or may not have taken (the call timed out, or a
-- worker died during it): never sent again; settled by a delivery status that names them, or
-- failed when the carrier's reconciliation window ends.
CREATE TABLE unconfirmed_messages (
    message_id bigint PRIMARY KEY,
    carrier_id bigint NOT NULL,
    phone      text NOT NULL,
    since      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX unconfirmed_messages_carrier_idx ON unconfirmed_messages (carrier_id, message_id);
