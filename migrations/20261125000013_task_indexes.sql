-- Every API request is a task: the console's listing reads only bulk tasks, and the API's
-- statistics and number lookups read one application's tasks of a period.
CREATE INDEX tasks_console_listing_idx ON tasks (created_at DESC, id DESC) WHERE upload_id IS NOT NULL;
CREATE INDEX tasks_application_created_idx ON tasks (application_id, created_at);
