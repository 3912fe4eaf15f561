-- Numbers that asked not to receive messages; bulk sends skip them.
CREATE TABLE opt_outs (
    phone    text PRIMARY KEY CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    source   text NOT NULL CHECK (source IN ('console', 'import')),
    note     text NOT NULL DEFAULT '',
    added_by bigint REFERENCES users (id),
    added_at timestamptz NOT NULL DEFAULT now()
);
