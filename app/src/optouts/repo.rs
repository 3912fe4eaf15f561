use sqlx::{PgConnection, PgPool};

use super::{OptOut, OPT_OUT_PAGE_SIZE};
use crate::error::AppError;
use crate::numbers::PhoneNumber;

/// Numbers in order, one page after `after`, optionally only those containing `search`.
pub async fn page(
    pool: &PgPool,
    search: Option<&str>,
    after: Option<&str>,
) -> Result<(Vec<OptOut>, i64), AppError> {
    let entries = sqlx::query_as!(
        OptOut,
        r#"SELECT phone, source, note, added_at AS "added_at: chrono::DateTime<chrono::Utc>"
             FROM opt_outs
            WHERE ($1::text IS NULL OR phone LIKE '%' || $1 || '%')
              AND ($2::text IS NULL OR phone > $2)
            ORDER BY phone LIMIT $3"#,
        search,
        after,
        OPT_OUT_PAGE_SIZE + 1,
    )
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM opt_outs"#)
        .fetch_one(pool)
        .await?;
    Ok((entries, total))
}

/// Adds numbers not yet listed; returns how many were new.
pub async fn add_all(
    conn: &mut PgConnection,
    phones: &[PhoneNumber],
    source: &str,
    note: &str,
    added_by: i64,
) -> Result<u64, AppError> {
    let phones: Vec<String> = phones.iter().map(|p| p.as_str().to_owned()).collect();
    Ok(sqlx::query!(
        "INSERT INTO opt_outs (phone, source, note, added_by)
         SELECT p, $2, $3, $4 FROM unnest($1::text[]) AS p
         ON CONFLICT (phone) DO NOTHING",
        &phones[..],
        source,
        note,
        added_by,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

pub async fn remove(conn: &mut PgConnection, phone: &PhoneNumber) -> Result<(), AppError> {
    let removed = sqlx::query!("DELETE FROM opt_outs WHERE phone = $1", phone.as_str())
        .execute(conn)
        .await?
        .rows_affected();
    if removed == 1 {
        Ok(())
    } else {
        Err(AppError::NotFound(crate::tr!(optout.errors.entry)))
    }
}
