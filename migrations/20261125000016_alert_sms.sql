-- SMS alerts to alarm contacts' phones: sent through an application with an approved template
-- (one placeholder, the alert's text) and signature, as tasks of their own origin.
ALTER TABLE tasks DROP CONSTRAINT tasks_origin_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_origin_check
    CHECK (origin IN ('console', 'api', 'verify', 'alert'));

ALTER TABLE alert_settings
    ADD COLUMN sms_application_id bigint REFERENCES applications (id) ON DELETE SET NULL,
    ADD COLUMN sms_template_id    bigint REFERENCES templates (id) ON DELETE SET NULL,
    ADD COLUMN sms_signature_id   bigint REFERENCES signatures (id) ON DELETE SET NULL;
