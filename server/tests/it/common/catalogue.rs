//! What a bulk task needs, inserted as review would leave it: an application, an approved
//! signature and approved templates.

use sqlx::PgPool;

/// Approved application, signature and templates inserted as review would leave them.
pub struct Catalogue {
    pub application: i64,
    pub signature: i64,
    /// "Dear {1}, happy new year from {2}."
    pub notification: i64,
    /// A marketing template (ends with the unsubscribe phrase).
    pub marketing: i64,
}

pub async fn catalogue(pool: &PgPool, user: i64) -> Catalogue {
    let application: i64 = sqlx::query_scalar(
        "INSERT INTO applications (sdk_app_id, name, created_by) VALUES (1400000001, 'Shop', $1) RETURNING id",
    )
    .bind(user)
    .fetch_one(pool)
    .await
    .unwrap();
    let document: i64 = sqlx::query_scalar(
        "INSERT INTO documents (media_type, bytes, uploaded_by) VALUES ('image/png', '\\x89504e47', $1) RETURNING id",
    )
    .bind(user)
    .fetch_one(pool)
    .await
    .unwrap();
    let signature: i64 = sqlx::query_scalar(
        "INSERT INTO signatures (content, purpose, sign_type, document_type, certificate_id, status, submitted_by)
         VALUES ('Herald', 0, 0, 0, $1, 'approved', $2) RETURNING id",
    )
    .bind(document)
    .bind(user)
    .fetch_one(pool)
    .await
    .unwrap();
    let template = |content: &'static str, sms_type: i16| async move {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO templates (name, sms_type, content, status, submitted_by)
             VALUES ('Greeting', $1, $2, 'approved', $3) RETURNING id",
        )
        .bind(sms_type)
        .bind(content)
        .bind(user)
        .fetch_one(pool)
        .await
        .unwrap()
    };
    Catalogue {
        application,
        signature,
        notification: template("Dear {1}, happy new year from {2}.", 2).await,
        marketing: template("Spring sale for {1}! Reply R to unsubscribe", 1).await,
    }
}
