//! The dashboard's getting-started checklist: what it counts, and who sees it.

use crate::common::catalogue::catalogue;
use crate::common::{spawn, TestApp, ADMIN_EMAIL};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

const PASSWORD: &str = "a long enough password";

async fn getting_started(app: &TestApp, client: &Client) -> Value {
    let (status, body) = app.call(client, "get_dashboard", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["getting_started"].clone()
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn the_checklist_counts_what_the_first_message_needs(pool: PgPool) {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    assert_eq!(
        getting_started(&app, &admin).await,
        json!({
            "operators": 0, "marketers": 0, "applications": 0,
            "approved_signatures": 0, "pending_signatures": 0,
            "approved_templates": 0, "pending_templates": 0, "sms_packages": 0,
        })
    );

    // Roles: held by active users only, the admin counting like anyone else.
    app.create_user(&admin, "olga@example.com", PASSWORD, &["operator"])
        .await;
    app.create_user(&admin, "gone@example.com", PASSWORD, &["marketer"])
        .await;
    let gone = app.user_id("gone@example.com").await.to_string();
    let (status, body) = app
        .call(
            &admin,
            "set_user_disabled",
            &[("user_id", &gone), ("disabled", "true")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let admin_id = app.user_id(ADMIN_EMAIL).await.to_string();
    let (status, body) = app
        .call(
            &admin,
            "update_user_roles",
            &[
                ("user_id", &admin_id),
                ("role_admin", "on"),
                ("role_marketer", "on"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Approved signature and templates, an application, one template still in review, a package.
    let olga = app.user_id("olga@example.com").await;
    catalogue(&app.pool, olga).await;
    sqlx::query(
        "INSERT INTO templates (name, sms_type, content, submitted_by) VALUES ('Later', 2, 'Hi {1}.', $1)",
    )
    .bind(olga)
    .execute(&app.pool)
    .await
    .unwrap();
    let (status, body) = app
        .call(
            &admin,
            "add_sms_package",
            &[
                ("units", "100"),
                ("package_type", "0"),
                ("expires_on", ""),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    assert_eq!(
        getting_started(&app, &admin).await,
        json!({
            "operators": 1, "marketers": 1, "applications": 1,
            "approved_signatures": 1, "pending_signatures": 0,
            "approved_templates": 2, "pending_templates": 1, "sms_packages": 1,
        })
    );

    // The checklist is the admin's: an operator's dashboard has none.
    let (operator, status, body) = app.log_in("olga@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(getting_started(&app, &operator).await, Value::Null);
}
