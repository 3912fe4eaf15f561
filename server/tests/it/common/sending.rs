//! A sending world for engine tests: the app, a marketer, an approved catalogue, units, and a
//! simulator behind the HTTP carrier protocol; tasks made the way a marketer makes them.

use std::sync::Arc;
use std::time::Duration;

use app::accounts::model::{CurrentUser, Role, Roles};
use app::campaigns::import::import;
use app::campaigns::repo::create_upload;
use app::campaigns::schedule::SendTime;
use app::campaigns::service::{self, NewTask};
use app::carriers::model::SimulatorSettings;
use app::carriers::simulator::Simulator;
use app::dispatch::engine::{Engine, EngineConfig};
use sqlx::PgPool;

use super::catalogue::{catalogue, Catalogue};
use super::{spawn, TestApp};

/// The world's marketer, who signs in with this password.
pub const MARKETER_EMAIL: &str = "mia@example.com";
pub const MARKETER_PASSWORD: &str = "marketing password 1";

pub struct World {
    pub app: TestApp,
    pub marketer: CurrentUser,
    pub catalogue: Catalogue,
    pub simulator: Arc<Simulator>,
    pub carrier: i64,
    /// Shared by every engine of the world, as one Redis is by every process.
    pub limiter: Arc<app::limits::store::Limiter>,
}

/// The app, a marketer, an approved catalogue, plenty of units, and a simulator behind the HTTP
/// carrier protocol as the default carrier, posting receipts back to the app.
pub async fn world(pool: PgPool, settings: SimulatorSettings) -> World {
    world_with(pool, settings, true).await
}

/// `receipts: false`: the simulator posts none.
pub async fn world_with(pool: PgPool, settings: SimulatorSettings, receipts: bool) -> World {
    let app = spawn(pool).await;
    let receipts_to = receipts.then(|| app.base.clone());
    populate(app, settings, receipts_to.as_deref()).await
}

/// The world, its simulator posting receipts to the Herald at `base` instead of the world's app
/// (a `herald serve` process of the test's own, on the same database).
pub async fn world_receipts_to(pool: PgPool, settings: SimulatorSettings, base: &str) -> World {
    populate(spawn(pool).await, settings, Some(base)).await
}

async fn populate(app: TestApp, settings: SimulatorSettings, receipts_to: Option<&str>) -> World {
    let admin = app.set_up().await;
    app.create_user(&admin, MARKETER_EMAIL, MARKETER_PASSWORD, &["marketer"])
        .await;
    let user = app.user_id(MARKETER_EMAIL).await;
    let catalogue = catalogue(&app.pool, user).await;
    sqlx::query("INSERT INTO sms_packages (units, package_type) VALUES (1000000, 1)")
        .execute(&app.pool)
        .await
        .unwrap();
    let carrier: i64 = sqlx::query_scalar(
        "INSERT INTO carriers (name, kind, settings, rate_limit, concurrency, receipt_token)
         VALUES ('Test simulator', 'http', '{}', 100000, 8, 'receipt-token') RETURNING id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let simulator = Arc::new(Simulator::new(
        settings,
        receipts_to.map(|base| format!("{base}/receipts/{carrier}/receipt-token")),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/send", listener.local_addr().unwrap());
    let router = herald::simulator::router(Arc::clone(&simulator), Some("carrier secret".into()));
    tokio::spawn(async move { axum::serve(listener, router).await });
    sqlx::query("UPDATE carriers SET is_default = false WHERE is_default")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE carriers SET is_default = true, settings = $2 WHERE id = $1")
        .bind(carrier)
        .bind(serde_json::json!({
            "endpoint": endpoint,
            "secret": super::secrets().seal("carrier secret"),
        }))
        .execute(&app.pool)
        .await
        .unwrap();
    let limiter = Arc::clone(&app.limiter);
    World {
        marketer: CurrentUser {
            id: user,
            email: MARKETER_EMAIL.into(),
            display_name: "Mia".into(),
            roles: Roles::new(vec![Role::Marketer]).unwrap(),
        },
        app,
        catalogue,
        simulator,
        carrier,
        limiter,
    }
}

pub fn engine(world: &World, workers: usize) -> Arc<Engine> {
    Engine::spawn(
        world.app.pool.clone(),
        EngineConfig {
            workers,
            public_url: world.app.base.clone(),
            lease_seconds: 30,
            secrets: super::secrets(),
            limiter: Arc::clone(&world.limiter),
        },
    )
}

/// A task to `rows` distinct numbers whose variables take `variants` distinct values.
pub async fn task(world: &World, rows: usize, variants: usize, when: SendTime) -> i64 {
    task_to(world, &numbers(rows), variants, when).await
}

/// `rows` distinct mobile numbers.
pub fn numbers(rows: usize) -> Vec<String> {
    (0..rows).map(|i| format!("138{i:08}")).collect()
}

/// A recipient file to these numbers (as a spreadsheet would hold them), for the notification
/// template; its variables take `variants` distinct values.
pub fn recipients_csv(phones: &[String], variants: usize) -> String {
    let mut csv = String::from("mobile,name,shop\n");
    for (i, phone) in phones.iter().enumerate() {
        csv.push_str(&format!("{phone},n{},Acme\n", i % variants));
    }
    csv
}

/// A task to these numbers.
pub async fn task_to(world: &World, phones: &[String], variants: usize, when: SendTime) -> i64 {
    let csv = recipients_csv(phones, variants);
    let path = std::env::temp_dir().join(format!("herald-dispatch-{}", uuid::Uuid::new_v4()));
    std::fs::write(&path, &csv).unwrap();
    let source = service::source(
        &world.app.pool,
        &world.catalogue.application.to_string(),
        &world.catalogue.signature.to_string(),
        &world.catalogue.notification.to_string(),
    )
    .await
    .unwrap();
    let upload = create_upload(
        &world.app.pool,
        &source,
        "t.csv",
        csv.len() as i64,
        world.marketer.id,
    )
    .await
    .unwrap();
    import(&world.app.pool, upload, path.clone(), source.rules())
        .await
        .unwrap();
    let _ = std::fs::remove_file(path);
    service::start_task(
        &world.app.pool,
        &world.marketer,
        "127.0.0.1",
        NewTask {
            upload_id: upload,
            name: "Greetings".into(),
            when,
            carrier_id: None,
        },
    )
    .await
    .unwrap()
}

pub fn now() -> SendTime {
    SendTime {
        at: chrono::Utc::now(),
        zone: chrono_tz::Asia::Shanghai,
        now: true,
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Counters {
    pub status: String,
    pub recipients: i32,
    pub sent: i32,
    pub delivered: i32,
    pub failed: i32,
    pub units_used: i64,
    pub units_reserved: i64,
}

pub async fn counters(pool: &PgPool, task: i64) -> Counters {
    let (status, recipients, sent, delivered, failed, units_used, units_reserved) = sqlx::query_as(
        "SELECT status, recipients, sent, delivered, failed, units_used, units_reserved FROM tasks WHERE id = $1",
    )
    .bind(task)
    .fetch_one(pool)
    .await
    .unwrap();
    Counters {
        status,
        recipients,
        sent,
        delivered,
        failed,
        units_used,
        units_reserved,
    }
}

pub async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..300 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Every message ended (delivered, failed or not sent), by the task's counters.
pub async fn settled(pool: &PgPool, task: i64) -> bool {
    let c = counters(pool, task).await;
    c.status == "completed" && c.delivered + c.failed == c.recipients
}

pub async fn states(pool: &PgPool, task: i64) -> Vec<(i16, i64)> {
    sqlx::query_as(
        "SELECT state, count(*) FROM messages WHERE task_id = $1 GROUP BY state ORDER BY state",
    )
    .bind(task)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// SMS alerts through the world's application and signature with an approved alert template
/// (`Herald告警：{1}`), set up by an admin in Settings; an alarm contact with a phone to receive
/// them. Returns the alert template's id.
pub async fn set_up_sms_alerts(world: &World) -> i64 {
    let (admin, _, _) = world
        .app
        .log_in(super::ADMIN_EMAIL, super::ADMIN_PASSWORD)
        .await;
    let template: i64 = sqlx::query_scalar(
        "INSERT INTO templates (name, sms_type, content, status, submitted_by)
         VALUES ('Alert', 2, 'Herald告警：{1}', 'approved', $1) RETURNING id",
    )
    .bind(world.marketer.id)
    .fetch_one(&world.app.pool)
    .await
    .unwrap();
    let (status, body) = world
        .app
        .call(
            &admin,
            "add_alarm_contact",
            &[
                ("name", "On call"),
                ("email", ""),
                ("phone", "+8613912345678"),
                ("webhook_url", ""),
            ],
        )
        .await;
    assert!(status.is_success(), "{body}");
    let (status, body) = world
        .app
        .call(
            &admin,
            "set_alert_sms",
            &[
                (
                    "sms_application_id",
                    &world.catalogue.application.to_string(),
                ),
                ("sms_template_id", &template.to_string()),
                ("sms_signature_id", &world.catalogue.signature.to_string()),
            ],
        )
        .await;
    assert!(status.is_success(), "{body}");
    template
}

/// The texts of the SMS alerts recorded so far, with the number each went to.
pub async fn sms_alerts(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT m.phone, m.params[1] FROM messages m JOIN tasks t ON t.id = m.task_id
          WHERE t.origin = 'alert' ORDER BY m.id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}
