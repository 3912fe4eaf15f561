//! Verification codes set up as an operator would have them: an approved verification template
//! and the application's settings using it.

use app::verify::model::VerifySettings;
use sqlx::PgPool;

/// An approved verification template, and the application's settings using it.
pub async fn set_up_verification(
    pool: &PgPool,
    catalogue: &super::catalogue::Catalogue,
    user: i64,
) -> VerifySettings {
    let template: i64 = sqlx::query_scalar(
        "INSERT INTO templates (name, sms_type, content, status, submitted_by)
         VALUES ('Login code', 3, 'Your login code is {1}, valid for {2} minutes.', 'approved', $1)
         RETURNING id",
    )
    .bind(user)
    .fetch_one(pool)
    .await
    .unwrap();
    let mut settings = app::verify::repo::for_application(pool, catalogue.application)
        .await
        .unwrap();
    settings.template_id = Some(template);
    settings.signature_id = Some(catalogue.signature);
    app::verify::repo::save(pool, &settings).await.unwrap();
    settings
}

/// The code the last SMS to `phone` carried (stored sealed; the carrier got it in clear).
pub async fn code_sent_to(pool: &PgPool, phone: &str) -> String {
    let sealed: String = sqlx::query_scalar(
        "SELECT m.params[1] FROM messages m JOIN tasks t ON t.id = m.task_id
          WHERE t.origin = 'verify' AND m.phone = $1 AND m.state <> 5 -- refused: never sent
          ORDER BY m.id DESC LIMIT 1",
    )
    .bind(phone)
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(sealed.starts_with("v1:"), "codes are never stored in clear");
    super::secrets().open(&sealed).unwrap()
}
