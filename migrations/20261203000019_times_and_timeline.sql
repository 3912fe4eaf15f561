-- A message's submission time was the moment its result was recorded, and a receipt that came in
-- before that recording kept the earlier moment it arrived: outcomes preceded submissions. From
-- now on the submission is the moment the message was handed to the carrier and an outcome is
-- never earlier than it. Rows written before are mended the only way the facts allow: the carrier
-- had the message by the time its receipt arrived.
UPDATE messages SET submitted_at = done_at WHERE done_at < submitted_at;
ALTER TABLE messages
    ADD CONSTRAINT messages_outcome_after_submission CHECK (done_at >= submitted_at);

-- Sends and receipts per second (a task of a few thousand recipients goes out within seconds, and
-- per-minute counts drew it as a single point); charts merge seconds into steps that suit the task.
ALTER TABLE task_minutes RENAME TO task_seconds;
ALTER TABLE task_seconds RENAME COLUMN minute TO second;
ALTER TABLE task_seconds RENAME CONSTRAINT task_minutes_pkey TO task_seconds_pkey;
ALTER TABLE task_seconds RENAME CONSTRAINT task_minutes_task_id_fkey TO task_seconds_task_id_fkey;

-- Messages the carrier (or Herald) refused, so a list can say how far a task has got: sent and
-- refused together are the recipients dealt with.
ALTER TABLE tasks ADD COLUMN refused integer NOT NULL DEFAULT 0;
UPDATE tasks t SET refused = r.refused
  FROM (SELECT task_id, sum(refused)::integer AS refused FROM task_seconds GROUP BY task_id) r
 WHERE r.task_id = t.id AND r.refused > 0;
