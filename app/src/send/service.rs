//! The send service: one content to some numbers, checked, recorded and billed in one
//! transaction as a task of its own, which the engine then sends like any bulk task (same
//! carrier choice, limits, balance, receipts and statistics). `SendSms`, verification codes and
//! alerts all send through it.

use sqlx::PgConnection;

use crate::campaigns::model::RejectReason;
use crate::campaigns::rules::RowRules;
use crate::dispatch::model::{MessageState, SendResult};
use crate::error::ApiError;
use crate::limits::store::Attempt;
use crate::numbers::PhoneNumber;
use crate::templates::model::{Template, TemplateContent};

/// A checked request to send one content to some numbers.
pub(crate) struct Request<'a> {
    pub application_id: i64,
    /// The key an API request came with; none for Herald's own alerts.
    pub api_key_id: Option<i64>,
    pub acting_user: Option<i64>,
    pub template: &'a Template,
    /// The approved signature's id and content.
    pub signature: &'a (Option<i64>, String),
    pub params: &'a [String],
    /// Billable parts of the message (the same for every number).
    pub units: i64,
    pub session_context: &'a str,
    /// What the same-content frequency limit compares (see `limits::content_key`).
    pub content_key: String,
}

/// What was recorded: one message per number, in order, and the numbers refused with their code.
pub(crate) struct Recorded {
    pub ids: Vec<i64>,
    pub refused: std::collections::HashMap<i64, &'static str>,
}

/// Records a send as a task of its own, in one transaction: its messages, the frequency limits
/// and opt-outs applied (refused numbers end rejected with their code), the units held, and
/// the chunk the engine picks up. Fails as a whole (nothing recorded) on a shortage of units.
pub(crate) async fn record(
    pool: &sqlx::PgPool,
    limiter: &crate::limits::store::Limiter,
    request: &Request<'_>,
    phones: &[String],
) -> Result<Recorded, ApiError> {
    let units = request.units;
    let opted_out = crate::dispatch::queue::opted_out(pool, phones).await?;
    // Checked before the frequency limits count anything (the reservation below is what
    // holds the units).
    let needed = units * phones.iter().filter(|p| !opted_out.contains(p)).count() as i64;
    let available = crate::balance::ledger::available(&mut *pool.acquire().await?).await?;
    if available < needed {
        return Err(insufficient(needed, available));
    }
    let mut tx = pool.begin().await?;
    let task_id = insert_task(&mut tx, request, phones.len()).await?;
    let ids = insert_messages(&mut tx, task_id, phones, request.params, units).await?;
    let attempts: Vec<Attempt> = ids
        .iter()
        .zip(phones)
        .filter(|(_, phone)| !opted_out.contains(phone))
        .map(|(id, phone)| Attempt {
            message_id: *id,
            phone: phone.clone(),
            content: request.content_key.clone(),
        })
        .collect();
    let rules = application_rules(&mut *tx, request.application_id).await?;
    let admitted_at = chrono::Utc::now();
    let hits = limiter
        .admit_at(request.application_id, &rules, &attempts, admitted_at)
        .await
        .map_err(limits_unavailable)?;
    let mut refused: std::collections::HashMap<i64, &'static str> = attempts
        .iter()
        .zip(hits)
        .filter_map(|(a, hit)| Some((a.message_id, hit?.code())))
        .collect();
    for (id, phone) in ids.iter().zip(phones) {
        if opted_out.contains(phone) {
            refused.insert(*id, "FailedOperation.PhoneNumberInBlacklist");
        }
    }
    let to_send: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !refused.contains_key(id))
        .collect();
    let recorded = async {
        // The statistics rows before the packages: the order the engine's recording locks
        // them in, so the two never wait on each other in a circle.
        record_refusals(&mut tx, task_id, &refused).await?;
        crate::balance::ledger::reserve(&mut tx, task_id, units * to_send.len() as i64)
            .await
            .map_err(|err| match err {
                crate::error::AppError::InsufficientBalance { needed, available } => {
                    insufficient(needed, available)
                }
                other => other.into(),
            })?;
        open_or_finish(&mut tx, task_id, units, &to_send).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(())
    }
    .await;
    if let Err(err) = recorded {
        // Nothing was recorded: the numbers' limits are as they were before the request.
        let admitted: Vec<Attempt> = attempts
            .into_iter()
            .filter(|a| !refused.contains_key(&a.message_id))
            .collect();
        if let Err(undo) = limiter
            .withdraw(request.application_id, &rules, &admitted, admitted_at)
            .await
        {
            tracing::warn!("a refused SendSms keeps its frequency counts: {undo}");
        }
        return Err(err);
    }
    Ok(Recorded { ids, refused })
}

/// Opens the chunk the engine sends `to_send` from, or finishes a request with nothing to send.
async fn open_or_finish(
    tx: &mut PgConnection,
    task_id: i64,
    units: i64,
    to_send: &[i64],
) -> Result<(), ApiError> {
    match (to_send.first(), to_send.last()) {
        (Some(&first), Some(&last)) => {
            sqlx::query!(
                "UPDATE tasks SET units_reserved = $2 WHERE id = $1",
                task_id,
                units * to_send.len() as i64
            )
            .execute(&mut *tx)
            .await?;
            crate::dispatch::queue::open_chunks(&mut *tx, task_id, first, last).await?;
        }
        _ => {
            // Nothing to send: the request is finished as it is recorded.
            sqlx::query!(
                "UPDATE tasks SET status = 'completed', finished_at = now() WHERE id = $1",
                task_id
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

pub(crate) fn insufficient(needed: i64, available: i64) -> ApiError {
    ApiError::new(
        "FailedOperation.InsufficientBalanceInSmsPackage",
        format!("The request needs {needed} units; the packages hold {available}."),
    )
}

/// The billable parts of the request's message (the same for every number), or why the
/// variables cannot be sent with this template.
pub(crate) fn units_per_message(
    template: &Template,
    signature: &str,
    phone: &PhoneNumber,
    params: &[String],
) -> Result<i64, ApiError> {
    let rules = RowRules::new(
        signature,
        &TemplateContent::from_stored(template.content.clone()),
        template.sms_type,
        template.international,
    );
    let mut cells: Vec<&str> = vec![phone.as_str()];
    cells.extend(params.iter().map(String::as_str));
    let error = |code, message: &str| Err(ApiError::new(code, message));
    match rules.check(&cells, &mut String::new()) {
        Ok(recipient) => Ok(i64::from(recipient.units)),
        Err(RejectReason::WrongRegion) => error(
            "UnsupportedOperation.UnsuportedRegion",
            if template.international {
                "This template is for international numbers."
            } else {
                "This template is for mainland numbers."
            },
        ),
        Err(RejectReason::UrlInVariable) => error(
            "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
            "A template variable may not hold a link; links belong in the reviewed template.",
        ),
        Err(RejectReason::TooLong) => error(
            "InvalidParameterValue.ContentLengthLimit",
            "The message is too long once the variables are filled in.",
        ),
        Err(reason) => error(
            "InvalidParameterValue.TemplateParameterFormatError",
            &format!("TemplateParamSet: {reason}."),
        ),
    }
}

pub(crate) async fn application_rules<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    application_id: i64,
) -> Result<crate::limits::FrequencyRules, crate::error::AppError> {
    let rules = sqlx::query_scalar!(
        r#"SELECT frequency_rules AS "rules: sqlx::types::Json<crate::limits::FrequencyRules>"
             FROM applications WHERE id = $1"#,
        application_id
    )
    .fetch_one(executor)
    .await?;
    Ok(rules.0)
}

/// Nothing goes out unchecked while the limits' counters cannot be reached.
pub(crate) fn limits_unavailable(err: impl std::fmt::Display) -> ApiError {
    tracing::warn!("frequency limits unavailable: {err}");
    ApiError::new(
        "InternalError",
        "Frequency limits cannot be checked just now; nothing was sent. Try again.",
    )
}

async fn insert_task(
    conn: &mut PgConnection,
    request: &Request<'_>,
    recipients: usize,
) -> Result<i64, ApiError> {
    // `$9` is cast where it first appears: Postgres types a parameter by its first use, and
    // `IS NULL` says nothing of the type.
    Ok(sqlx::query_scalar!(
        "INSERT INTO tasks (name, application_id, signature_id, template_id, signature_text,
                            template_name, template_text, sms_type, status, send_at, time_zone,
                            recipients, units_reserved, created_by, api_key_id, session_context,
                            started_at, origin)
         VALUES (CASE WHEN $9::bigint IS NULL THEN 'Alert' ELSE 'SendSms' END, $1, $2, $3, $4,
                 $5, $6, $7, 'sending', now(), 'Asia/Shanghai', $11, 0, $8, $9, $10, now(),
                 CASE WHEN $9 IS NULL THEN 'alert' ELSE 'api' END)
         RETURNING id",
        request.application_id,
        request.signature.0,
        request.template.id,
        &request.signature.1,
        &request.template.name,
        &request.template.content,
        request.template.sms_type.code(),
        request.acting_user,
        request.api_key_id,
        request.session_context,
        recipients as i32
    )
    .fetch_one(conn)
    .await?)
}

/// One message per number, in request order; their ids, in the same order.
async fn insert_messages(
    conn: &mut PgConnection,
    task_id: i64,
    phones: &[String],
    params: &[String],
    units: i64,
) -> Result<Vec<i64>, ApiError> {
    // Ids come from one sequence in the order rows are inserted, so sorted ids follow the
    // request's order.
    let mut ids = sqlx::query_scalar!(
        "INSERT INTO messages (task_id, phone, params, units)
         SELECT $1, phone, $3, $4 FROM unnest($2::text[]) WITH ORDINALITY AS v(phone, n)
          ORDER BY n
         RETURNING id",
        task_id,
        phones,
        params,
        units as i16
    )
    .fetch_all(&mut *conn)
    .await?;
    ids.sort_unstable();
    Ok(ids)
}

/// Numbers refused before sending end as rejected messages, counted in the task and in the
/// statistics like any refusal.
async fn record_refusals(
    conn: &mut PgConnection,
    task_id: i64,
    refused: &std::collections::HashMap<i64, &'static str>,
) -> Result<(), ApiError> {
    if refused.is_empty() {
        return Ok(());
    }
    let (ids, codes): (Vec<i64>, Vec<&str>) = refused.iter().map(|(id, code)| (*id, *code)).unzip();
    sqlx::query!(
        "UPDATE messages m SET state = $3, code = v.code, done_at = now()
           FROM unnest($1::bigint[], $2::text[]) AS v(id, code) WHERE m.id = v.id",
        &ids,
        &codes as &[&str],
        MessageState::Rejected as _
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE tasks SET failed = failed + $2, refused = refused + $2 WHERE id = $1",
        task_id,
        ids.len() as i32
    )
    .execute(&mut *conn)
    .await?;
    let now = chrono::Utc::now();
    let results: Vec<SendResult> = refused
        .iter()
        .map(|(id, code)| SendResult {
            id: *id,
            state: MessageState::Rejected,
            serial: None,
            code: Some((*code).to_owned()),
            units: 0,
            carrier: None,
            at: now,
        })
        .collect();
    crate::stats::counters::sends(conn, task_id, &results).await?;
    Ok(())
}
