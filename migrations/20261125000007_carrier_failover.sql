-- A carrier may hand its traffic to a secondary after this many consecutive transient failures.
ALTER TABLE carriers
    ADD COLUMN failover_carrier_id bigint REFERENCES carriers (id) ON DELETE SET NULL,
    ADD COLUMN failover_after      integer NOT NULL DEFAULT 3 CHECK (failover_after BETWEEN 1 AND 100),
    ADD CONSTRAINT carriers_failover_elsewhere CHECK (failover_carrier_id IS DISTINCT FROM id);
