//! How a code goes out. Each is one message of its application's verification stream: a task
//! per application, template, signature, carrier and China day, which the engine sends in
//! batches of whatever codes have arrived (`dispatch::repo::claim`). A getSms adds its message
//! and a one-message chunk (`CodeWriter`, with the requests that arrived alongside) and nothing
//! any other request waits on: no task per code, no units held (the balance is checked; units
//! are charged as the engine sends), and the counters (requests, recipients, statistics) are
//! kept per engine batch, not per request. Only a refused code (a frequency limit, an opted-out
//! number) is counted here, as it never reaches the engine.

use sqlx::{PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot};

use crate::dispatch::model::MessageState;
use crate::dispatch::model::SendResult;
use crate::error::ApiError;
use crate::error::AppError;
use crate::limits::store::{Attempt, Limiter};
use crate::limits::FrequencyRules;
use crate::numbers::PhoneNumber;
use crate::review::model::ReviewStatus;
use crate::templates::model::{SmsType, Template, TemplateContent};

/// What an application's codes go out with, and the stream they join today.
#[derive(Debug, Clone)]
pub struct Sending {
    pub template: Template,
    /// The approved signature's id and content.
    pub signature: (Option<i64>, String),
    /// Placeholders of the template: the code, and the validity minutes if there is a second.
    pub placeholders: usize,
    pub rules: FrequencyRules,
    pub stream_task: i64,
    /// The China day of `stream_task`: a cached `Sending` is good only on its day.
    pub day: chrono::NaiveDate,
}

/// Today's China date.
pub fn china_today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
}

/// The application's sending set-up for `day`, or `None` while its template or signature is
/// missing, unapproved or not a verification template with one or two placeholders.
pub async fn resolve(
    pool: &PgPool,
    settings: &super::model::VerifySettings,
    day: chrono::NaiveDate,
) -> Result<Option<Sending>, AppError> {
    let (Some(template_id), Some(signature_id)) = (settings.template_id, settings.signature_id)
    else {
        return Ok(None);
    };
    let template = crate::templates::repo::get(pool, template_id).await?;
    let signature = crate::signatures::repo::get(pool, signature_id).await?;
    let placeholders = TemplateContent::from_stored(template.content.clone()).param_count();
    if template.status != ReviewStatus::Approved
        || signature.status != ReviewStatus::Approved
        || template.sms_type != SmsType::Verification
        || !(1..=2).contains(&placeholders)
    {
        return Ok(None);
    }
    let rules = crate::send::service::application_rules(pool, settings.application_id).await?;
    let signature = (Some(signature.id), signature.content);
    let stream_task =
        stream_task(pool, settings.application_id, &template, &signature, day).await?;
    Ok(Some(Sending {
        template,
        signature,
        placeholders,
        rules,
        stream_task,
        day,
    }))
}

/// Finds or opens the day's stream for the carrier the application uses now: a change of
/// carrier opens another stream, so a stream's carrier says where each of its codes went. Only
/// a sending stream takes codes; one that was stopped stays as it is and another opens.
async fn stream_task(
    pool: &PgPool,
    application_id: i64,
    template: &Template,
    signature: &(Option<i64>, String),
    day: chrono::NaiveDate,
) -> Result<i64, AppError> {
    let carrier = sqlx::query_scalar!(
        r#"SELECT coalesce((SELECT carrier_id FROM applications WHERE id = $1),
                           (SELECT id FROM carriers WHERE is_default)) AS "carrier!""#,
        application_id
    )
    .fetch_one(pool)
    .await?;
    // `day as _`: the macros would check a DATE against the `time` crate's type (also enabled
    // in the build); chrono's encodes it the same.
    let find = || {
        sqlx::query_scalar!(
            "SELECT id FROM tasks
              WHERE application_id = $1 AND template_id = $2 AND signature_id = $3
                AND carrier_id = $4 AND stream_day = $5 AND status = 'sending'",
            application_id,
            template.id,
            signature.0,
            carrier,
            day as _
        )
    };
    // Looked up first: opening one when it exists would wait for the engine's recording of it.
    if let Some(id) = find().fetch_optional(pool).await? {
        return Ok(id);
    }
    let opened = sqlx::query_scalar!(
        "INSERT INTO tasks (name, application_id, signature_id, template_id, signature_text,
                            template_name, template_text, sms_type, status, send_at, time_zone,
                            recipients, units_reserved, started_at, origin, stream_day, carrier_id)
         VALUES ('Verification codes', $1, $2, $3, $4, $5, $6, $7, 'sending', now(),
                 'Asia/Shanghai', 0, 0, now(), 'verify', $8, $9)
         ON CONFLICT (application_id, template_id, signature_id, carrier_id, stream_day)
            WHERE stream_day IS NOT NULL AND status = 'sending' DO NOTHING
         RETURNING id",
        application_id,
        signature.0,
        template.id,
        &signature.1,
        &template.name,
        &template.content,
        template.sms_type.code(),
        day as _,
        carrier
    )
    .fetch_optional(pool)
    .await?;
    match opened {
        Some(id) => Ok(id),
        // Another request opened it meanwhile.
        None => Ok(find().fetch_one(pool).await?),
    }
}

/// What became of a code's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Durably queued: the engine sends it.
    Queued,
    /// Refused with this code (recorded as a rejected message).
    Refused(&'static str),
}

/// Codes on their way to the database: getSms requests arriving together are checked (opt-outs,
/// balance, frequency limits) and recorded together — a few statements and one commit for all
/// of them rather than for each — and each request is answered once its code's message is
/// durable. A request alone is written at once; under load, whatever arrived while the last
/// write ran goes in the next.
pub struct CodeWriter {
    queue: mpsc::Sender<Pending>,
}

/// Writes in flight at once (each takes whatever is waiting, up to `BATCH`).
const WRITERS: usize = 4;
const BATCH: usize = 256;

struct Pending {
    application_id: i64,
    stream_task: i64,
    rules: FrequencyRules,
    /// What the same-content limit compares: the code changes every time, so it compares the
    /// rest, and a number gets at most one code per its window.
    content_key: String,
    phone: String,
    /// The sealed code, and the validity minutes if the template shows them.
    params: Vec<String>,
    units: i64,
    answer: oneshot::Sender<Result<Recorded, ApiError>>,
}

impl CodeWriter {
    pub fn spawn(pool: PgPool, limiter: std::sync::Arc<Limiter>) -> CodeWriter {
        let (queue, arrivals) = mpsc::channel::<Pending>(BATCH * 16);
        let arrivals = std::sync::Arc::new(tokio::sync::Mutex::new(arrivals));
        for _ in 0..WRITERS {
            let (pool, limiter, arrivals) = (pool.clone(), limiter.clone(), arrivals.clone());
            tokio::spawn(async move {
                let mut batch = Vec::with_capacity(BATCH);
                loop {
                    if arrivals.lock().await.recv_many(&mut batch, BATCH).await == 0 {
                        return;
                    }
                    write(&pool, &limiter, std::mem::take(&mut batch)).await;
                }
            });
        }
        CodeWriter { queue }
    }

    /// A code's message, checked and recorded. `params` hold the code sealed. Fails with nothing
    /// recorded when the balance cannot pay for it or the limits cannot be checked.
    pub async fn record(
        &self,
        application_id: i64,
        sending: &Sending,
        phone: &PhoneNumber,
        params: Vec<String>,
        units: i64,
    ) -> Result<Recorded, ApiError> {
        let (answer, answered) = oneshot::channel();
        let pending = Pending {
            application_id,
            stream_task: sending.stream_task,
            rules: sending.rules,
            content_key: crate::limits::content_key(
                &sending.signature.1,
                &sending.template.content,
                &[],
            ),
            phone: phone.as_str().to_owned(),
            params,
            units,
            answer,
        };
        let gone = || ApiError::new("InternalError", "The server is shutting down; try again.");
        self.queue.send(pending).await.map_err(|_| gone())?;
        answered.await.map_err(|_| gone())?
    }
}

/// Checks and records a batch, then answers each request.
async fn write(pool: &PgPool, limiter: &Limiter, batch: Vec<Pending>) {
    let outcomes = match check_and_record(pool, limiter, &batch).await {
        Ok(outcomes) => outcomes,
        Err(err) => vec![Err(err); batch.len()],
    };
    for (pending, outcome) in batch.into_iter().zip(outcomes) {
        // A request that gave up waiting has nobody to answer.
        let _ = pending.answer.send(outcome);
    }
}

async fn check_and_record(
    pool: &PgPool,
    limiter: &Limiter,
    batch: &[Pending],
) -> Result<Vec<Result<Recorded, ApiError>>, ApiError> {
    let mut conn = pool.acquire().await?;
    let phones: Vec<&str> = batch.iter().map(|p| p.phone.as_str()).collect();
    let opted_out = sqlx::query_scalar!(
        "SELECT phone FROM opt_outs WHERE phone = ANY($1)",
        &phones as &[&str]
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut available = crate::balance::ledger::available(&mut conn).await?;
    // Refusals first (they are recorded), then the balance in arrival order.
    let mut outcomes: Vec<Option<Result<Recorded, ApiError>>> = batch
        .iter()
        .map(|p| {
            if opted_out.contains(&p.phone) {
                Some(Ok(Recorded::Refused(
                    "FailedOperation.PhoneNumberInBlacklist",
                )))
            } else if p.units > available {
                Some(Err(crate::send::service::insufficient(p.units, available)))
            } else {
                available -= p.units;
                None
            }
        })
        .collect();
    admit(limiter, batch, &mut outcomes).await;
    let outcomes: Vec<Result<Recorded, ApiError>> = outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Ok(Recorded::Queued)))
        .collect();
    let mut queued: Vec<&Pending> = Vec::new();
    let mut refused: Vec<(&Pending, &'static str)> = Vec::new();
    for (pending, outcome) in batch.iter().zip(&outcomes) {
        match outcome {
            Ok(Recorded::Queued) => queued.push(pending),
            Ok(Recorded::Refused(code)) => refused.push((pending, code)),
            Err(_) => {}
        }
    }
    if refused.is_empty() {
        insert_queued(&mut conn, &queued).await?;
    } else {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        insert_queued(&mut tx, &queued).await?;
        record_refusals(&mut tx, &refused).await?;
        tx.commit().await?;
    }
    if !queued.is_empty() {
        crate::dispatch::queue::work_recorded();
    }
    Ok(outcomes)
}

/// Counts the requests still undecided against their application's frequency limits.
async fn admit(
    limiter: &Limiter,
    batch: &[Pending],
    outcomes: &mut [Option<Result<Recorded, ApiError>>],
) {
    let mut applications: Vec<i64> = batch.iter().map(|p| p.application_id).collect();
    applications.sort_unstable();
    applications.dedup();
    for application in applications {
        let undecided: Vec<usize> = (0..batch.len())
            .filter(|&i| batch[i].application_id == application && outcomes[i].is_none())
            .collect();
        let Some(&first) = undecided.first() else {
            continue;
        };
        let attempts: Vec<Attempt> = undecided
            .iter()
            .map(|&i| Attempt {
                // The limits recognise a message asking again by its id; a code's message is
                // inserted only once admitted, so it asks under an id no message has.
                message_id: -{
                    use rand::Rng;
                    rand::thread_rng().gen_range(1..i64::MAX)
                },
                phone: batch[i].phone.clone(),
                content: batch[i].content_key.clone(),
            })
            .collect();
        match limiter
            .admit(application, &batch[first].rules, &attempts)
            .await
        {
            Ok(hits) => {
                for (&i, hit) in undecided.iter().zip(hits) {
                    outcomes[i] = hit.map(|hit| Ok(Recorded::Refused(hit.code())));
                }
            }
            Err(err) => {
                let refusal = crate::send::service::limits_unavailable(err);
                for &i in &undecided {
                    outcomes[i] = Some(Err(refusal.clone()));
                }
            }
        }
    }
}

/// Splits params into the code and the optional second value, for `unnest`.
fn params_columns<'a>(
    rows: impl Iterator<Item = &'a Pending>,
) -> (Vec<String>, Vec<Option<String>>) {
    rows.map(|p| (p.params[0].clone(), p.params.get(1).cloned()))
        .unzip()
}

async fn insert_queued(conn: &mut PgConnection, queued: &[&Pending]) -> Result<(), AppError> {
    if queued.is_empty() {
        return Ok(());
    }
    let (codes, seconds) = params_columns(queued.iter().copied());
    let tasks: Vec<i64> = queued.iter().map(|p| p.stream_task).collect();
    let phones: Vec<&str> = queued.iter().map(|p| p.phone.as_str()).collect();
    let units: Vec<i16> = queued.iter().map(|p| p.units as i16).collect();
    sqlx::query!(
        "WITH m AS (
             INSERT INTO messages (task_id, phone, params, units)
             SELECT task, phone, CASE WHEN second IS NULL THEN ARRAY[sealed] ELSE ARRAY[sealed, second] END, units
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::smallint[])
                    AS v(task, phone, sealed, second, units)
             RETURNING id, task_id)
         INSERT INTO dispatch_chunks (task_id, first_id, last_id) SELECT task_id, id, id FROM m",
        &tasks,
        &phones as &[&str],
        &codes,
        &seconds as &[Option<String>],
        &units
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Refused codes become rejected messages of their streams, counted like any refusal.
async fn record_refusals(
    conn: &mut PgConnection,
    refused: &[(&Pending, &'static str)],
) -> Result<(), AppError> {
    let (codes, seconds) = params_columns(refused.iter().map(|(p, _)| *p));
    let tasks: Vec<i64> = refused.iter().map(|(p, _)| p.stream_task).collect();
    let phones: Vec<&str> = refused.iter().map(|(p, _)| p.phone.as_str()).collect();
    let units: Vec<i16> = refused.iter().map(|(p, _)| p.units as i16).collect();
    let reasons: Vec<&str> = refused.iter().map(|(_, code)| *code).collect();
    let inserted = sqlx::query!(
        r#"INSERT INTO messages (task_id, phone, params, units, state, code, done_at)
         SELECT task, phone, CASE WHEN second IS NULL THEN ARRAY[sealed] ELSE ARRAY[sealed, second] END,
                units, $7, reason, now()
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::smallint[], $6::text[])
                AS v(task, phone, sealed, second, units, reason)
         RETURNING id, task_id, code AS "code!""#,
        &tasks,
        &phones as &[&str],
        &codes,
        &seconds as &[Option<String>],
        &units,
        &reasons as &[&str],
        MessageState::Rejected as _
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut streams: Vec<i64> = inserted.iter().map(|row| row.task_id).collect();
    streams.sort_unstable();
    streams.dedup();
    let now = chrono::Utc::now();
    for stream in streams {
        let results: Vec<SendResult> = inserted
            .iter()
            .filter(|row| row.task_id == stream)
            .map(|row| SendResult {
                id: row.id,
                state: MessageState::Rejected,
                serial: None,
                code: Some(row.code.clone()),
                units: 0,
                carrier: None,
                at: now,
            })
            .collect();
        // The statistics rows before the task's: the order the engine's recording locks them.
        crate::stats::counters::sends(&mut *conn, stream, &results).await?;
        let ids: std::collections::HashSet<i64> = results.iter().map(|r| r.id).collect();
        crate::dispatch::recording::count_stream_recipients(&mut *conn, stream, &ids).await?;
        sqlx::query!(
            "UPDATE tasks SET failed = failed + $2, refused = refused + $2 WHERE id = $1",
            stream,
            ids.len() as i32
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
