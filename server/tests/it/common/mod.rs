//! Spawns Herald on a random port against the per-test database `#[sqlx::test]` provides.

pub mod catalogue;
pub mod process;
pub mod sending;
pub mod verification;

use std::net::SocketAddr;
use std::sync::Arc;

use herald::config::{DatabaseConfig, ServeConfig};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use tokio::net::TcpListener;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// The token test servers expect at `/metrics`.
pub const METRICS_TOKEN: &str = "test metrics token";

/// The key test servers seal stored secrets with.
pub const TEST_SECRET_KEY: &str = "test-only secret key, never used in production";

pub fn secrets() -> app::secrets::SecretBox {
    app::secrets::SecretBox::from_key_material(TEST_SECRET_KEY).expect("test key")
}

/// The test Redis (make test starts it).
/// The Python with the official Tencent SDK that `make test` installs.
pub fn sdk_python() -> String {
    std::env::var("HERALD_SDK_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/herald/tools/sdk-python/bin/python",
            std::env::var("HOME").unwrap()
        )
    })
}

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

#[derive(Clone)]
pub struct TestApp {
    pub base: String,
    /// The app's frequency limits; engines a test starts share them, as one Redis is shared.
    pub limiter: Arc<app::limits::store::Limiter>,
    /// What the app's verification endpoint has cached of its settings.
    pub verify_keys: Arc<app::verify::cache::KeyCache>,
    pub pool: PgPool,
}

/// The URL of the per-test database behind `pool`, for code that connects by itself.
pub async fn database_url(pool: &PgPool) -> String {
    let db: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .expect("database name");
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let (server, _) = base
        .rsplit_once('/')
        .expect("DATABASE_URL names a database");
    format!("{server}/{db}")
}

pub async fn spawn(pool: PgPool) -> TestApp {
    spawn_with_redis(pool, &redis_url()).await
}

/// The app with its frequency limits and verification codes in the Redis at `redis`, built as
/// `herald serve` builds it but without the work beside the requests: tests start an engine when
/// they send, and deliver webhooks a step at a time.
pub async fn spawn_with_redis(pool: PgPool, redis: &str) -> TestApp {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = ServeConfig {
        // Unused: the app runs on the per-test database's pool.
        database: DatabaseConfig {
            database_url: String::new(),
            db_max_connections: 5,
        },
        addr,
        site_root: "target/site".into(),
        cookie_secure: false,
        session_hours: 12,
        trust_proxy: false,
        dispatch_workers: 2,
        dispatch_lease_seconds: 30,
        public_url: Some(format!("http://{addr}")),
        secrets: herald::config::SecretConfig {
            secret_key: Some(TEST_SECRET_KEY.into()),
            data_dir: std::env::temp_dir(),
        },
        redis_url: Some(redis.into()),
        tencent_api_path: "/".into(),
        verify_path: "/verify".into(),
        // A prefix of the test's own: parallel tests (whose databases reuse ids) never share
        // counters or codes.
        redis_prefix: format!("herald-test:{}:", uuid::Uuid::new_v4()),
        metrics_token: Some(METRICS_TOKEN.into()),
    };
    let (state, router) = herald::build(&config, pool, herald::Background::Leave)
        .await
        .expect("the app (the tests need Redis: make test starts it)");
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    TestApp {
        base: format!("http://{addr}"),
        limiter: state.limiter,
        verify_keys: state.verify_keys,
        pool: state.pool,
    }
}

/// A browser-like client: its own cookie jar, so each one is a separate session.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        // A stuck request fails the test instead of stalling the whole run.
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A customer's webhook endpoint: it answers every POST with one status and hands over the
/// events whose signature it could verify with the contact's secret.
pub struct WebhookReceiver {
    events: tokio::sync::mpsc::UnboundedReceiver<(bool, Value)>,
}

impl WebhookReceiver {
    /// The next event it received; fails the test on a bad signature or after 10 s.
    pub async fn next(&mut self) -> Value {
        let (verified, event) =
            tokio::time::timeout(std::time::Duration::from_secs(10), self.events.recv())
                .await
                .expect("an event within 10 s")
                .expect("receiver running");
        assert!(verified, "the receiver can verify the signature: {event}");
        event
    }

    /// What arrived so far, without waiting.
    pub fn received(&mut self) -> Vec<Value> {
        std::iter::from_fn(|| self.events.try_recv().ok())
            .map(|(verified, event)| {
                assert!(verified, "the receiver can verify the signature: {event}");
                event
            })
            .collect()
    }
}

impl TestApp {
    /// Calls a server function the way a hydrated page does (form-encoded in, JSON out).
    pub async fn call(
        &self,
        client: &reqwest::Client,
        function: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let response = client
            .post(format!("{}/api/{function}", self.base))
            .form(form)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// First-run set-up through the console's own server function; returns the admin's client.
    pub async fn set_up(&self) -> reqwest::Client {
        let admin = browser();
        let (status, body) = self
            .call(
                &admin,
                "set_up",
                &[
                    ("org_name", "Acme Retail"),
                    ("account_type", "organisation"),
                    ("verified", "on"),
                    ("email", ADMIN_EMAIL),
                    ("display_name", "Ada Admin"),
                    ("password", ADMIN_PASSWORD),
                    ("password_confirm", ADMIN_PASSWORD),
                ],
            )
            .await;
        assert!(
            status.is_success() || status.is_redirection(),
            "set-up failed: {status} {body}"
        );
        admin
    }

    pub async fn create_user(
        &self,
        admin: &reqwest::Client,
        email: &str,
        password: &str,
        roles: &[&str],
    ) {
        let mut form = vec![
            ("email", email),
            ("display_name", email),
            ("password", password),
        ];
        let names: Vec<String> = roles.iter().map(|r| format!("role_{r}")).collect();
        form.extend(names.iter().map(|n| (n.as_str(), "on")));
        let (status, body) = self.call(admin, "create_user", &form).await;
        assert!(status.is_success(), "create_user failed: {status} {body}");
    }

    pub async fn log_in(
        &self,
        email: &str,
        password: &str,
    ) -> (reqwest::Client, StatusCode, Value) {
        let client = browser();
        let (status, body) = self
            .call(
                &client,
                "log_in",
                &[("email", email), ("password", password)],
            )
            .await;
        (client, status, body)
    }

    /// Uploads a recipient file for a task from `template` of the catalogue, as the Bulk SMS
    /// page posts it.
    pub async fn upload_file(
        &self,
        client: &reqwest::Client,
        c: &catalogue::Catalogue,
        template: i64,
        name: &str,
        bytes: Vec<u8>,
    ) -> (StatusCode, Value) {
        let form = reqwest::multipart::Form::new()
            .text("application_id", c.application.to_string())
            .text("signature_id", c.signature.to_string())
            .text("template_id", template.to_string())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
            );
        let response = client
            .post(format!("{}/bulk/uploads", self.base))
            .header("Accept", "application/json")
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The upload's validation report, once its import has finished.
    pub async fn report_when_ready(&self, client: &reqwest::Client, upload: i64) -> Value {
        for _ in 0..100 {
            let (status, report) = self
                .call(client, "get_upload_report", &[("id", &upload.to_string())])
                .await;
            assert_eq!(status, StatusCode::OK, "{report}");
            if report["state"] != "Processing" {
                return report;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("upload {upload} never finished");
    }

    /// Starts a webhook receiver answering `answer` and adds it as an alarm contact through the
    /// console (the admin's client), keeping the signing secret the console shows.
    pub async fn webhook_receiver(
        &self,
        admin: &reqwest::Client,
        answer: StatusCode,
    ) -> WebhookReceiver {
        use axum::http::HeaderMap;
        let secret = Arc::new(std::sync::Mutex::new(String::new()));
        let (sender, events) = tokio::sync::mpsc::unbounded_channel();
        let slot = Arc::clone(&secret);
        let router = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let sender = sender.clone();
                let secret = slot.lock().unwrap().clone();
                async move {
                    let timestamp: i64 = headers["x-herald-timestamp"]
                        .to_str()
                        .unwrap()
                        .parse()
                        .unwrap();
                    let verified = headers["x-herald-signature"].to_str().unwrap()
                        == herald::webhooks::signature(&secret, timestamp, &body);
                    let _ = sender.send((verified, serde_json::from_slice(&body).unwrap()));
                    answer
                }
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let (status, body) = self
            .call(
                admin,
                "add_alarm_contact",
                &[
                    ("name", "Ops"),
                    ("email", ""),
                    ("phone", "+8613800000000"),
                    ("webhook_url", &url),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, alerts) = self.call(admin, "list_alarm_contacts", &[]).await;
        let contact = alerts["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["webhook_url"] == url.as_str())
            .expect("the contact just added");
        *secret.lock().unwrap() = contact["webhook_secret"].as_str().unwrap().to_owned();
        WebhookReceiver { events }
    }

    /// Delivers every webhook event that is due, as the server's worker does.
    pub async fn deliver_webhooks(&self) -> usize {
        herald::webhooks::deliver_due(&self.pool, &herald::webhooks::client())
            .await
            .expect("webhook delivery")
    }

    /// A single count from the test database, to check what was (or was not) stored.
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .expect(sql)
    }

    pub async fn user_id(&self, email: &str) -> i64 {
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&self.pool)
            .await
            .expect("user id")
    }
}
