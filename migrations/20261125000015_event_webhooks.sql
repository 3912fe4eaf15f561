-- Organisation event webhooks beyond review decisions: bulk task status changes, message
-- outcomes (batched) and a low balance.

-- Queues one event for every contact with a webhook, in the caller's transaction, so the event
-- exists exactly when the change it reports does. One definition for Rust callers and triggers.
CREATE FUNCTION enqueue_webhook_event(kind text, data jsonb) RETURNS void
LANGUAGE sql AS $$
    WITH event AS MATERIALIZED (SELECT gen_random_uuid() AS id)
    INSERT INTO webhook_deliveries (event_id, contact_id, event_type, payload)
    SELECT event.id, c.id, kind,
           jsonb_build_object('id', event.id, 'type', kind, 'created_at', now(), 'data', data)
      FROM event, alarm_contacts c
     WHERE c.webhook_url IS NOT NULL
$$;

-- Every status change of a bulk task is reported, whichever code path makes it (scheduler,
-- engine, console, marketing window). API and verification tasks are one per request or per
-- day and are left out: their messages' outcomes are reported instead.
CREATE FUNCTION report_task_status() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    previous text := CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END;
    kind text := CASE
        WHEN NEW.status = 'sending' AND previous = 'paused' THEN 'task.resumed'
        WHEN NEW.status = 'sending' THEN 'task.started'
        WHEN NEW.status = 'paused' THEN 'task.paused'
        WHEN NEW.status = 'completed' THEN 'task.completed'
        WHEN NEW.status = 'cancelled' THEN 'task.cancelled'
        WHEN NEW.status = 'failed' THEN 'task.failed'
    END;
BEGIN
    IF kind IS NOT NULL THEN
        PERFORM enqueue_webhook_event(kind, jsonb_build_object(
            'task_id', NEW.id,
            'name', NEW.name,
            'sdk_app_id', (SELECT sdk_app_id FROM applications WHERE id = NEW.application_id),
            'status', NEW.status,
            'previous_status', previous,
            'reason', NEW.status_reason,
            'recipients', NEW.recipients,
            'sent', NEW.sent,
            'delivered', NEW.delivered,
            'failed', NEW.failed,
            'units_used', NEW.units_used));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_report_status AFTER UPDATE OF status ON tasks
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.origin = 'console')
    EXECUTE FUNCTION report_task_status();
CREATE TRIGGER tasks_report_start AFTER INSERT ON tasks
    FOR EACH ROW WHEN (NEW.status = 'sending' AND NEW.origin = 'console')
    EXECUTE FUNCTION report_task_status();

-- The balance alert: a threshold in units (NULL: off) and since when the balance has been below
-- it, so each fall below is reported once.
CREATE TABLE alert_settings (
    singleton         boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    balance_low_units bigint CHECK (balance_low_units > 0),
    balance_low_since timestamptz
);
INSERT INTO alert_settings DEFAULT VALUES;
