use sqlx::{PgConnection, PgPool};

use super::model::Notification;
use crate::error::AppError;

pub async fn notify(
    conn: &mut PgConnection,
    user_id: i64,
    title: &str,
    body: &str,
    link: Option<&str>,
) -> Result<(), AppError> {
    sqlx::query!(
        "INSERT INTO notifications (user_id, title, body, link) VALUES ($1, $2, $3, $4)",
        user_id,
        title,
        body,
        link,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn unread_count(pool: &PgPool, user_id: i64) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM notifications WHERE user_id = $1 AND read_at IS NULL"#,
        user_id,
    )
    .fetch_one(pool)
    .await?)
}

pub async fn recent(pool: &PgPool, user_id: i64) -> Result<Vec<Notification>, AppError> {
    Ok(sqlx::query_as!(
        Notification,
        r#"SELECT id, title, body, link, created_at AS "created_at: chrono::DateTime<chrono::Utc>",
                  read_at IS NOT NULL AS "read!"
             FROM notifications
            WHERE user_id = $1 ORDER BY id DESC LIMIT 100"#,
        user_id,
    )
    .fetch_all(pool)
    .await?)
}

pub async fn mark_all_read(pool: &PgPool, user_id: i64) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL",
        user_id,
    )
    .execute(pool)
    .await?;
    Ok(())
}
