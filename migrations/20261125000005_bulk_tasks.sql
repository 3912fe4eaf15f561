-- Bulk SMS tasks: an uploaded recipient file, its validation report, and the task sent from it.

-- Marketing SMS only inside this daily window (Asia/Shanghai), per the carriers' rules.
ALTER TABLE organisation
    ADD COLUMN marketing_window_start time NOT NULL DEFAULT '08:00',
    ADD COLUMN marketing_window_end   time NOT NULL DEFAULT '22:00',
    ADD CONSTRAINT organisation_marketing_window_order
        CHECK (marketing_window_start < marketing_window_end);

-- One uploaded recipient file, checked against the template it was uploaded for.
CREATE TABLE recipient_uploads (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id  bigint NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    signature_id    bigint REFERENCES signatures (id) ON DELETE SET NULL,
    template_id     bigint REFERENCES templates (id) ON DELETE SET NULL,
    file_name       text NOT NULL,
    file_bytes      bigint NOT NULL CHECK (file_bytes > 0),
    -- How far processing has read, for the progress bar.
    processed_bytes bigint NOT NULL DEFAULT 0,
    state           text NOT NULL DEFAULT 'processing' CHECK (state IN ('processing', 'ready', 'failed')),
    error           text,
    total_rows      integer,
    accepted        integer,
    duplicates      integer,
    opted_out       integer,
    -- Rejected row counts by reason code.
    rejected        jsonb,
    -- Billable segments summed over every accepted recipient's rendered message.
    units           bigint,
    uploaded_by     bigint NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    CHECK ((state = 'failed') = (error IS NOT NULL)),
    CHECK (state <> 'ready' OR (total_rows IS NOT NULL AND accepted IS NOT NULL AND units IS NOT NULL))
);
CREATE INDEX recipient_uploads_created_idx ON recipient_uploads (created_at);

-- Every row of an uploaded file, written by COPY in one transaction with the report. Accepted rows
-- hold the E.164 number and the variables; the others hold what the file said and why it was
-- refused (duplicates and opted-out numbers included). No foreign key or B-tree: each would cost
-- the COPY a lookup per row; uploads arrive as contiguous runs of rows, which a BRIN index finds.
CREATE TABLE recipients (
    upload_id bigint NOT NULL,
    row_no    integer NOT NULL,
    phone     text NOT NULL,
    params    text[] NOT NULL,
    units     smallint NOT NULL,
    -- NULL for an accepted row, else the reason code (see campaigns::model::RejectReason).
    reason    smallint
);
CREATE INDEX recipients_upload_brin ON recipients USING brin (upload_id);

CREATE TABLE tasks (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    upload_id      bigint NOT NULL UNIQUE REFERENCES recipient_uploads (id),
    application_id bigint NOT NULL REFERENCES applications (id),
    signature_id   bigint REFERENCES signatures (id) ON DELETE SET NULL,
    template_id    bigint REFERENCES templates (id) ON DELETE SET NULL,
    -- What was approved and sent, kept when the signature or template is later deleted.
    signature_text text NOT NULL,
    template_name  text NOT NULL,
    template_text  text NOT NULL,
    sms_type       smallint NOT NULL CHECK (sms_type IN (1, 2, 3)),
    status         text NOT NULL
                   CHECK (status IN ('scheduled', 'sending', 'paused', 'completed', 'cancelled', 'failed')),
    status_reason  text,
    send_at        timestamptz NOT NULL,
    -- The zone the creator scheduled in, to show the time as they entered it.
    time_zone      text NOT NULL,
    recipients     integer NOT NULL CHECK (recipients > 0),
    sent           integer NOT NULL DEFAULT 0 CHECK (sent BETWEEN 0 AND recipients),
    units_reserved bigint NOT NULL CHECK (units_reserved >= 0),
    units_used     bigint NOT NULL DEFAULT 0 CHECK (units_used >= 0),
    created_by     bigint NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);
CREATE INDEX tasks_listing_idx ON tasks (created_at DESC, id DESC);
CREATE INDEX tasks_due_idx ON tasks (send_at) WHERE status IN ('scheduled', 'sending');

-- The units a task holds in each package, so cancelling gives back exactly what it took.
CREATE TABLE task_reservations (
    task_id    bigint NOT NULL REFERENCES tasks (id),
    package_id bigint NOT NULL REFERENCES sms_packages (id),
    units      bigint NOT NULL CHECK (units >= 0),
    PRIMARY KEY (task_id, package_id)
);
