//! The audit trail, the organisation settings, health probes, panics and the command line.

use crate::common;
use crate::common::{browser, spawn, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn every_account_change_is_audited_with_actor_and_address(pool: PgPool) {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    app.create_user(
        &admin,
        "olga@example.com",
        "a long enough password",
        &["operator"],
    )
    .await;
    app.log_in("olga@example.com", "wrong password!").await;
    let (status, page) = app.call(&admin, "list_audit", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let entries = page["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["session.login_failed", "user.create", "organisation.setup"]
    );
    assert_eq!(entries[1]["actor_email"], ADMIN_EMAIL);
    assert_eq!(entries[1]["ip"], "127.0.0.1");
    assert!(entries[1]["details"]
        .as_str()
        .unwrap()
        .contains("olga@example.com"));

    let (_, filtered) = app
        .call(&admin, "list_audit", &[("filter[action]", "user.create")])
        .await;
    let filtered = filtered["entries"].as_array().unwrap();
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0]["action"], "user.create");
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn audit_pages_are_keyset_paginated(pool: PgPool) {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    for _ in 0..55 {
        app.log_in("nobody@example.com", "x").await;
        sqlx::query("DELETE FROM login_failures")
            .execute(&app.pool)
            .await
            .unwrap();
    }
    let (_, first) = app.call(&admin, "list_audit", &[]).await;
    let first_entries = first["entries"].as_array().unwrap();
    assert_eq!(first_entries.len(), 50);
    assert_eq!(first["has_more"], true);
    let last_id = first_entries.last().unwrap()["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let (_, second) = app
        .call(&admin, "list_audit", &[("filter[before]", &last_id)])
        .await;
    let second_entries = second["entries"].as_array().unwrap();
    assert_eq!(second_entries.len(), 6, "55 failures + set-up = 56 entries");
    assert_eq!(second["has_more"], false);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn admins_edit_the_organisation(pool: PgPool) {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    let (status, _) = app
        .call(
            &admin,
            "update_organisation",
            &[("org_name", "Acme Group"), ("account_type", "individual")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, org) = app.call(&admin, "get_organisation", &[]).await;
    assert_eq!(org["name"], "Acme Group");
    assert_eq!(org["account_type"], "Individual");
    assert_eq!(org["verified"], false, "an unticked box clears the flag");
    let (status, body) = app
        .call(
            &admin,
            "update_organisation",
            &[("org_name", ""), ("account_type", "individual")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Invalid"][0]["field"], "org_name");
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn health_and_readiness(pool: PgPool) {
    let app = spawn(pool).await;
    let client = browser();
    let health = client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    app.pool.close().await;
    let ready = client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_panicking_request_answers_500_with_an_error_id_and_the_server_lives_on() {
    let router = herald::http::catch_panics(
        axum::Router::new()
            .route(
                "/boom",
                axum::routing::get(|| async { panic!("kaboom") as &'static str }),
            )
            .route("/fine", axum::routing::get(|| async { "fine" })),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = browser();
    let boom = client.get(format!("{base}/boom")).send().await.unwrap();
    assert_eq!(boom.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = boom.json().await.unwrap();
    let message = body["Error"]["Message"].as_str().unwrap();
    assert!(message.contains("error id"), "{message}");
    assert!(!message.contains("kaboom"), "internals stay in the log");
    let fine = client.get(format!("{base}/fine")).send().await.unwrap();
    assert_eq!(fine.text().await.unwrap(), "fine");
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn pages_render_on_the_server_for_each_state(pool: PgPool) {
    let app = spawn(pool).await;
    let page = |client: &reqwest::Client, path: &str| {
        // Browsers ask for HTML; redirects are only real HTTP redirects for them.
        client
            .get(format!("{}{path}", app.base))
            .header("accept", "text/html")
            .send()
    };
    let client = browser();
    // Before set-up every console page leads to the set-up form.
    let home = page(&client, "/users").await.unwrap();
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(home.headers()["location"], "/setup");
    let setup = page(&client, "/setup").await.unwrap().text().await.unwrap();
    assert!(setup.contains("Create organisation"));

    let admin = app.set_up().await;
    let (operator, _, _) = {
        app.create_user(
            &admin,
            "olga@example.com",
            "a long enough password",
            &["operator"],
        )
        .await;
        app.log_in("olga@example.com", "a long enough password")
            .await
    };
    let users_page = page(&operator, "/users").await.unwrap();
    assert_eq!(users_page.status(), StatusCode::FORBIDDEN);
    let html = page(&admin, "/users").await.unwrap().text().await.unwrap();
    assert!(
        html.contains("olga@example.com"),
        "the users table is in the server-rendered HTML"
    );
    let signed_out = page(&browser(), "/").await.unwrap();
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_out.headers()["location"], "/login");
    // The page a signed-out visitor wanted is kept for after sign-in, and only ever a page here.
    let wanted = page(&browser(), "/records/5?phone=138").await.unwrap();
    assert_eq!(
        wanted.headers()["location"],
        "/login?next=%2Frecords%2F5%3Fphone%3D138"
    );
    let back = page(&admin, "/login?next=%2Frecords%2F5%3Fphone%3D138")
        .await
        .unwrap();
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(back.headers()["location"], "/records/5?phone=138");
    for elsewhere in [
        "%2F%2Fevil.example",
        "https%3A%2F%2Fevil.example",
        "%2F%5Cevil.example",
    ] {
        let refused = page(&admin, &format!("/login?next={elsewhere}"))
            .await
            .unwrap();
        assert_eq!(refused.headers()["location"], "/", "next={elsewhere}");
    }
    let set_up_again = page(&admin, "/setup").await.unwrap();
    assert_eq!(set_up_again.headers()["location"], "/");
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn create_admin_on_the_command_line(pool: PgPool) {
    let url = common::database_url(&pool).await;
    let run = |args: &[&str], password: &str| {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .arg("create-admin")
            .args(args)
            .env("DATABASE_URL", &url)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(password.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let without_org = run(
        &["--email", "root@example.com", "--password-stdin"],
        "a long enough password\n",
    );
    assert!(!without_org.status.success());
    assert!(String::from_utf8_lossy(&without_org.stderr).contains("--org-name"));

    let weak = run(
        &[
            "--email",
            "root@example.com",
            "--password-stdin",
            "--org-name",
            "Acme",
        ],
        "short\n",
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password"));

    let ok = run(
        &[
            "--email",
            "root@example.com",
            "--password-stdin",
            "--org-name",
            "Acme",
            "--verified",
        ],
        "a long enough password\n",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("created admin root@example.com"));

    let app = spawn(pool).await;
    let (_, status, _) = app
        .log_in("root@example.com", "a long enough password")
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, status, _) = app.log_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
