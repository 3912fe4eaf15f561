//! Accounts, roles and sessions through the console's own server functions.

use crate::common::{browser, spawn, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

const OPERATOR: &str = "olga@example.com";
const MARKETER: &str = "mark@example.com";
const PASSWORD: &str = "a long enough password";

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn first_run_offers_setup_once_and_signs_the_admin_in(pool: PgPool) {
    let app = spawn(pool).await;
    let visitor = browser();
    let (status, body) = app.call(&visitor, "get_session", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!("NeedsSetup"));

    let admin = app.set_up().await;
    let (_, body) = app.call(&admin, "get_session", &[]).await;
    assert_eq!(body["SignedIn"]["user"]["email"], ADMIN_EMAIL);
    assert_eq!(body["SignedIn"]["user"]["roles"], json!(["Admin"]));
    assert_eq!(body["SignedIn"]["organisation"]["name"], "Acme Retail");
    assert_eq!(body["SignedIn"]["organisation"]["verified"], true);

    // The set-up form cannot be replayed to take over the installation.
    let (status, body) = app
        .call(
            &browser(),
            "set_up",
            &[
                ("org_name", "Evil"),
                ("account_type", "organisation"),
                ("email", "evil@example.com"),
                ("display_name", "Evil"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let users = app.count("SELECT count(*) FROM users").await;
    assert_eq!(users, 1);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn setup_reports_every_bad_field_and_stores_nothing(pool: PgPool) {
    let app = spawn(pool).await;
    let (status, body) = app
        .call(
            &browser(),
            "set_up",
            &[
                ("org_name", " "),
                ("account_type", "company"),
                ("email", "not-an-email"),
                ("display_name", "Ada"),
                ("password", "short"),
                ("password_confirm", "different"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["Invalid"]
        .as_array()
        .expect("field errors")
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "org_name",
            "account_type",
            "email",
            "password",
            "password_confirm"
        ]
    );
    let organisations = app.count("SELECT count(*) FROM organisation").await;
    assert_eq!(organisations, 0);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn wrong_password_and_unknown_account_get_the_same_answer(pool: PgPool) {
    let app = spawn(pool).await;
    app.set_up().await;
    let (_, wrong_status, wrong_body) = app.log_in(ADMIN_EMAIL, "not the password").await;
    let (_, unknown_status, unknown_body) =
        app.log_in("nobody@example.com", "not the password").await;
    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_status, unknown_status);
    assert_eq!(wrong_body, unknown_body);
    assert_eq!(wrong_body, json!("BadCredentials"));
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn repeated_failures_throttle_the_account_even_for_the_right_password(pool: PgPool) {
    let app = spawn(pool).await;
    app.set_up().await;
    for _ in 0..5 {
        let (_, status, _) = app.log_in(ADMIN_EMAIL, "guess guess guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (_, status, body) = app.log_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body["Throttled"]["retry_after_minutes"].as_i64().unwrap() >= 1);
    // Another account from another address is unaffected... but all tests share 127.0.0.1,
    // so only the per-account limit is exercised here; the per-address limit is larger.
    let failures = app.count("SELECT count(*) FROM login_failures").await;
    assert_eq!(failures, 5);
}

/// Guesses sent all at once are counted as they arrive, before any password is checked: five are
/// judged, the rest are turned away without hashing anything.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn concurrent_guesses_are_all_counted(pool: PgPool) {
    let app = spawn(pool).await;
    app.set_up().await;
    let guesses = (0..20).map(|i| {
        let app = &app;
        async move {
            app.log_in(ADMIN_EMAIL, &format!("guess number {i}"))
                .await
                .1
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let judged = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let turned_away = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((judged, turned_away), (5, 15), "{statuses:?}");
    assert_eq!(app.count("SELECT count(*) FROM login_failures").await, 5);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn signing_in_issues_a_new_session_id(pool: PgPool) {
    let app = spawn(pool).await;
    app.set_up().await;
    let client = browser();
    // A session that exists before sign-in (as a planted one would).
    let before = client
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    assert!(before.status().is_success());
    let (status, _) = app
        .call(
            &client,
            "log_in",
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let response = client
        .post(format!("{}/api/log_in", app.base))
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("herald_session="))
        .expect("sign-in sets the session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let sessions = app
        .count("SELECT count(*) FROM tower_sessions.session")
        .await;
    assert_eq!(
        sessions, 2,
        "the set-up session and the latest sign-in; the earlier id was replaced"
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn every_server_function_checks_roles_on_the_server(pool: PgPool) {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    app.create_user(&admin, OPERATOR, PASSWORD, &["operator"])
        .await;
    app.create_user(&admin, MARKETER, PASSWORD, &["marketer"])
        .await;
    let (operator, status, _) = app.log_in(OPERATOR, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let (marketer, _, _) = app.log_in(MARKETER, PASSWORD).await;
    let anonymous = browser();

    let admin_only: [(&str, Vec<(&str, &str)>); 6] = [
        ("list_users", vec![]),
        (
            "create_user",
            vec![
                ("email", "x@example.com"),
                ("display_name", "X"),
                ("password", PASSWORD),
                ("role_admin", "on"),
            ],
        ),
        (
            "update_user_roles",
            vec![("user_id", "1"), ("role_operator", "on")],
        ),
        (
            "set_user_disabled",
            vec![("user_id", "1"), ("disabled", "true")],
        ),
        ("reset_user_password", vec![("user_id", "1")]),
        ("list_audit", vec![]),
    ];
    for (function, form) in &admin_only {
        for (who, client, expected) in [
            ("operator", &operator, StatusCode::FORBIDDEN),
            ("marketer", &marketer, StatusCode::FORBIDDEN),
            ("anonymous", &anonymous, StatusCode::UNAUTHORIZED),
        ] {
            let (status, body) = app.call(client, function, form).await;
            assert_eq!(status, expected, "{who} calling {function}: {body}");
        }
    }
    let (status, _) = app.call(&admin, "list_users", &[]).await;
    assert_eq!(status, StatusCode::OK);
    // Nothing the refused calls asked for happened.
    let admins = app
        .count("SELECT count(*) FROM users WHERE 'admin' = ANY(roles) AND disabled_at IS NULL")
        .await;
    assert_eq!(admins, 1);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn cross_site_posts_are_refused(pool: PgPool) {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    let response = admin
        .post(format!("{}/api/create_user", app.base))
        .header("origin", "http://evil.example")
        .form(&[
            ("email", "x@example.com"),
            ("display_name", "X"),
            ("password", PASSWORD),
            ("role_admin", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let same_site = admin
        .post(format!("{}/api/list_users", app.base))
        .header("origin", app.base.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(same_site.status(), StatusCode::OK);
    let users = app.count("SELECT count(*) FROM users").await;
    assert_eq!(users, 1);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn disabling_a_user_ends_their_sessions_and_blocks_sign_in(pool: PgPool) {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    app.create_user(&admin, OPERATOR, PASSWORD, &["operator"])
        .await;
    let (operator, _, _) = app.log_in(OPERATOR, PASSWORD).await;
    let id = app.user_id(OPERATOR).await.to_string();

    let (status, _) = app
        .call(
            &admin,
            "set_user_disabled",
            &[("user_id", &id), ("disabled", "true")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = app.call(&operator, "get_session", &[]).await;
    assert_eq!(body, json!("SignedOut"));
    let (_, status, body) = app.log_in(OPERATOR, PASSWORD).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!("BadCredentials"))
    );

    let (status, _) = app
        .call(
            &admin,
            "set_user_disabled",
            &[("user_id", &id), ("disabled", "false")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, status, _) = app.log_in(OPERATOR, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn the_last_admin_cannot_be_demoted_or_disabled(pool: PgPool) {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    let admin_id = app.user_id(ADMIN_EMAIL).await.to_string();
    let (status, body) = app
        .call(
            &admin,
            "update_user_roles",
            &[("user_id", &admin_id), ("role_operator", "on")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = app
        .call(
            &admin,
            "set_user_disabled",
            &[("user_id", &admin_id), ("disabled", "true")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // With a second admin, the first may step down.
    app.create_user(&admin, "second@example.com", PASSWORD, &["admin"])
        .await;
    let (status, _) = app
        .call(
            &admin,
            "update_user_roles",
            &[("user_id", &admin_id), ("role_operator", "on")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.call(&admin, "list_users", &[]).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "role changes apply to the open session at once"
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_password_reset_issues_a_one_time_password_once(pool: PgPool) {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    app.create_user(&admin, MARKETER, PASSWORD, &["marketer"])
        .await;
    let (old_session, _, _) = app.log_in(MARKETER, PASSWORD).await;
    let id = app.user_id(MARKETER).await.to_string();

    let (status, _) = app
        .call(&admin, "reset_user_password", &[("user_id", &id)])
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = app.call(&admin, "list_users", &[]).await;
    let issued = page["issued_password"]["password"]
        .as_str()
        .expect("issued password")
        .to_owned();
    assert_eq!(page["issued_password"]["email"], MARKETER);
    let (_, again) = app.call(&admin, "list_users", &[]).await;
    assert!(again["issued_password"].is_null(), "shown only once");

    let (_, body) = app.call(&old_session, "get_session", &[]).await;
    assert_eq!(body, json!("SignedOut"));
    let (_, status, _) = app.log_in(MARKETER, PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, status, _) = app.log_in(MARKETER, &issued).await;
    assert_eq!(status, StatusCode::OK);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn duplicate_emails_are_a_field_error(pool: PgPool) {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    let (status, body) = app
        .call(
            &admin,
            "create_user",
            &[
                ("email", "ADMIN@example.com"),
                ("display_name", "Again"),
                ("password", PASSWORD),
                ("role_operator", "on"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Invalid"][0]["field"], "email");
    let (status, body) = app
        .call(
            &admin,
            "create_user",
            &[
                ("email", "new@example.com"),
                ("display_name", "New"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Invalid"][0]["field"], "roles");
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn logout_ends_the_session(pool: PgPool) {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    let (status, _) = app.call(&admin, "log_out", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = app.call(&admin, "get_session", &[]).await;
    assert_eq!(body, json!("SignedOut"));
    let (status, _) = app.call(&admin, "list_users", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn changing_your_password_keeps_you_signed_in_and_ends_other_sessions(pool: PgPool) {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    let (other, _, _) = app.log_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let new = "an even longer passphrase";
    let (status, body) = app
        .call(
            &admin,
            "change_password",
            &[
                ("current_password", "wrong"),
                ("password", new),
                ("password_confirm", new),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Invalid"][0]["field"], "current_password");
    let (status, _) = app
        .call(
            &admin,
            "change_password",
            &[
                ("current_password", ADMIN_PASSWORD),
                ("password", new),
                ("password_confirm", new),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, mine) = app.call(&admin, "get_session", &[]).await;
    assert!(mine.get("SignedIn").is_some());
    let (_, theirs) = app.call(&other, "get_session", &[]).await;
    assert_eq!(theirs, json!("SignedOut"));
}
