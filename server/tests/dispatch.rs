//! The dispatch engine against a real database and the carrier simulator reached over HTTP (so
//! its ledger can be read): every message sent once, receipts applied, units consumed, pause /
//! cancel honoured, dead workers' chunks recovered, several engines sharing one task.

mod common;

use std::sync::Arc;
use std::time::Duration;

use app::accounts::model::{CurrentUser, Role, Roles};
use app::campaigns::import::import;
use app::campaigns::repo::create_upload;
use app::campaigns::schedule::SendTime;
use app::campaigns::service::{self, NewTask, TaskAction};
use app::dispatch::engine::{Engine, EngineConfig};
use app::dispatch::simulator::{LedgerSummary, Simulator, SimulatorSettings};
use common::catalogue::{catalogue, Catalogue};
use common::{spawn, TestApp};
use sqlx::PgPool;

struct World {
    app: TestApp,
    marketer: CurrentUser,
    catalogue: Catalogue,
    simulator: Arc<Simulator>,
    carrier: i64,
}

/// The app, a marketer, an approved catalogue, plenty of units, and a simulator behind the HTTP
/// carrier protocol as the default carrier, posting receipts back to the app.
async fn world(pool: PgPool, settings: SimulatorSettings) -> World {
    world_with(pool, settings, true).await
}

async fn world_with(pool: PgPool, settings: SimulatorSettings, receipts: bool) -> World {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    app.create_user(
        &admin,
        "mia@example.com",
        "marketing password 1",
        &["marketer"],
    )
    .await;
    let user = app.user_id("mia@example.com").await;
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
        receipts.then(|| format!("{}/receipts/{carrier}/receipt-token", app.base)),
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
        .bind(serde_json::json!({ "endpoint": endpoint, "secret": "carrier secret" }))
        .execute(&app.pool)
        .await
        .unwrap();
    World {
        marketer: CurrentUser {
            id: user,
            email: "mia@example.com".into(),
            display_name: "Mia".into(),
            roles: Roles::new(vec![Role::Marketer]).unwrap(),
        },
        app,
        catalogue,
        simulator,
        carrier,
    }
}

fn engine(world: &World, workers: usize) -> Arc<Engine> {
    Engine::spawn(
        world.app.pool.clone(),
        EngineConfig {
            workers,
            public_url: world.app.base.clone(),
            lease_seconds: 30,
        },
    )
}

/// A task to `rows` distinct numbers whose variables take `variants` distinct values.
async fn task(world: &World, rows: usize, variants: usize, when: SendTime) -> i64 {
    let mut csv = String::from("mobile,name,shop\n");
    for i in 0..rows {
        csv.push_str(&format!("138{:08},n{},Acme\n", i, i % variants));
    }
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

fn now() -> SendTime {
    SendTime {
        at: chrono::Utc::now(),
        zone: chrono_tz::Asia::Shanghai,
        now: true,
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Counters {
    status: String,
    recipients: i32,
    sent: i32,
    delivered: i32,
    failed: i32,
    units_used: i64,
    units_reserved: i64,
}

async fn counters(pool: &PgPool, task: i64) -> Counters {
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

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..300 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Every message ended (delivered, failed or not sent), by the task's counters.
async fn settled(pool: &PgPool, task: i64) -> bool {
    let c = counters(pool, task).await;
    c.status == "completed" && c.delivered + c.failed == c.recipients
}

async fn states(pool: &PgPool, task: i64) -> Vec<(i16, i64)> {
    sqlx::query_as(
        "SELECT state, count(*) FROM messages WHERE task_id = $1 GROUP BY state ORDER BY state",
    )
    .bind(task)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_started_task_is_sent_once_and_its_receipts_complete_it(pool: PgPool) {
    let w = world(
        pool,
        SimulatorSettings {
            accept_rate: 0.9,
            delivery_rate: 0.8,
            seed: Some(3),
            ..Default::default()
        },
    )
    .await;
    let _engine = engine(&w, 2);
    let task = task(&w, 500, 7, now()).await;
    wait_for("the task to settle", async || {
        settled(&w.app.pool, task).await
    })
    .await;

    let c = counters(&w.app.pool, task).await;
    let ledger: LedgerSummary = w.simulator.ledger();
    assert_eq!(ledger.duplicates, 0);
    assert_eq!(ledger.resubmitted, 0, "nothing was handed over twice");
    assert_eq!(i64::from(c.sent), ledger.accepted as i64);
    assert_eq!(ledger.accepted + ledger.refused, 500);
    assert!(c.delivered > 300 && c.failed > 20, "{c:?}");
    // One unit per accepted message (short content), moved from the reservation to `used`.
    assert_eq!(c.units_used, i64::from(c.sent));
    assert_eq!(c.units_reserved, 0);
    let (used, reserved): (i64, i64) =
        sqlx::query_as("SELECT sum(used)::bigint, sum(reserved)::bigint FROM sms_packages")
            .fetch_one(&w.app.pool)
            .await
            .unwrap();
    assert_eq!((used, reserved), (c.units_used, 0));
    // Message rows agree with the counters: delivered 3, failed 4; none left in flight.
    let by_state = states(&w.app.pool, task).await;
    let count = |s: i16| {
        by_state
            .iter()
            .find(|(state, _)| *state == s)
            .map_or(0, |(_, n)| *n)
    };
    assert_eq!(count(3), i64::from(c.delivered));
    assert_eq!(count(4), i64::from(c.failed));
    assert_eq!(count(0) + count(1) + count(2), 0, "{by_state:?}");
    let refused_codes: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT code FROM messages WHERE task_id = $1 AND state = 4 ORDER BY code",
    )
    .bind(task)
    .fetch_all(&w.app.pool)
    .await
    .unwrap();
    assert!(
        refused_codes
            .iter()
            .any(|c| c.starts_with("FailedOperation") || c.starts_with("Invalid")),
        "{refused_codes:?}"
    );
    assert!(
        refused_codes
            .iter()
            .any(|c| ["UNDELIV", "EXPIRED", "REJECTD"].contains(&c.as_str())),
        "{refused_codes:?}"
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn transient_carrier_errors_are_retried_until_every_message_ends(pool: PgPool) {
    let w = world(
        pool,
        SimulatorSettings {
            transient_rate: 0.2,
            seed: Some(5),
            ..Default::default()
        },
    )
    .await;
    let _engine = engine(&w, 2);
    let task = task(&w, 800, 400, now()).await;
    wait_for("the task to settle", async || {
        settled(&w.app.pool, task).await
    })
    .await;
    let ledger = w.simulator.ledger();
    assert!(
        ledger.transient_failures > 0,
        "the carrier did fail sometimes"
    );
    assert_eq!((ledger.accepted, ledger.duplicates), (800, 0));
    assert_eq!(counters(&w.app.pool, task).await.delivered, 800);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn three_engines_share_one_task_without_duplicates(pool: PgPool) {
    let w = world(
        pool,
        SimulatorSettings {
            latency_ms: 5,
            ..Default::default()
        },
    )
    .await;
    let engines: Vec<_> = (0..3).map(|_| engine(&w, 2)).collect();
    let task = task(&w, 3000, 3000, now()).await;
    wait_for("the task to settle", async || {
        settled(&w.app.pool, task).await
    })
    .await;
    let ledger = w.simulator.ledger();
    assert_eq!(
        (ledger.accepted, ledger.duplicates, ledger.resubmitted),
        (3000, 0, 0)
    );
    drop(engines);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_dead_workers_chunk_is_taken_over_and_resent_under_the_same_keys(pool: PgPool) {
    let w = world(pool, SimulatorSettings::default()).await;
    // A task nobody is sending yet: scheduled far ahead.
    let task = task(
        &w,
        50,
        50,
        SendTime {
            at: chrono::Utc::now() + chrono::Duration::days(1),
            zone: chrono_tz::Asia::Shanghai,
            now: false,
        },
    )
    .await;
    sqlx::query("UPDATE tasks SET status = 'sending' WHERE id = $1")
        .bind(task)
        .execute(&w.app.pool)
        .await
        .unwrap();
    // A worker claims the chunk, hands its messages to the carrier, and dies before recording.
    let dead = uuid::Uuid::new_v4();
    let chunk = app::dispatch::repo::claim(&w.app.pool, dead, 30)
        .await
        .unwrap()
        .expect("a chunk");
    let taken = app::dispatch::repo::take_messages(&w.app.pool, chunk)
        .await
        .unwrap();
    let batch = app::dispatch::carrier::Batch {
        sign: "Herald".into(),
        content: "【Herald】Dear n0, happy new year from Acme.".into(),
        messages: taken
            .iter()
            .map(|m| app::dispatch::carrier::Outgoing {
                key: app::dispatch::model::message_key(m.id),
                phone: m.phone.clone(),
            })
            .collect(),
    };
    w.simulator.submit(&batch).await.unwrap();
    sqlx::query("UPDATE dispatch_chunks SET lease_until = now() - interval '1 second'")
        .execute(&w.app.pool)
        .await
        .unwrap();

    let _engine = engine(&w, 1);
    wait_for("the task to settle", async || {
        settled(&w.app.pool, task).await
    })
    .await;
    let ledger = w.simulator.ledger();
    assert_eq!(ledger.accepted, 50, "each message reached a handset once");
    assert_eq!(ledger.duplicates, 0);
    assert_eq!(
        ledger.resubmitted, 50,
        "the survivor resent under the same keys"
    );
    let attempts: Vec<i16> =
        sqlx::query_scalar("SELECT DISTINCT attempts FROM messages WHERE task_id = $1")
            .bind(task)
            .fetch_all(&w.app.pool)
            .await
            .unwrap();
    assert_eq!(attempts, [2]);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn pausing_stops_sending_and_cancelling_gives_back_the_rest(pool: PgPool) {
    let w = world(
        pool,
        SimulatorSettings {
            latency_ms: 100,
            ..Default::default()
        },
    )
    .await;
    let _engine = engine(&w, 1);
    // Every recipient has its own content: one carrier call per message.
    let task = task(&w, 400, 400, now()).await;
    wait_for("sending to begin", async || {
        w.simulator.ledger().accepted > 3
    })
    .await;
    service::change_task(
        &w.app.pool,
        &w.marketer,
        "127.0.0.1",
        task,
        TaskAction::Pause,
    )
    .await
    .unwrap();
    // The call in flight finishes; no new one starts (one call takes 100 ms).
    tokio::time::sleep(Duration::from_millis(400)).await;
    let paused_at = w.simulator.ledger().accepted;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        w.simulator.ledger().accepted,
        paused_at,
        "nothing is sent while paused"
    );
    wait_for("the paused chunk to be recorded", async || {
        i64::from(counters(&w.app.pool, task).await.sent) == paused_at as i64
    })
    .await;

    service::change_task(
        &w.app.pool,
        &w.marketer,
        "127.0.0.1",
        task,
        TaskAction::Resume,
    )
    .await
    .unwrap();
    wait_for("sending to resume", async || {
        w.simulator.ledger().accepted > paused_at + 2
    })
    .await;
    service::change_task(
        &w.app.pool,
        &w.marketer,
        "127.0.0.1",
        task,
        TaskAction::Cancel,
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent_by_carrier = w.simulator.ledger().accepted;
    assert!(
        sent_by_carrier < 400,
        "cancelled before the end: {sent_by_carrier}"
    );
    wait_for("the last batch to be recorded", async || {
        i64::from(counters(&w.app.pool, task).await.sent) == w.simulator.ledger().accepted as i64
    })
    .await;
    let c = counters(&w.app.pool, task).await;
    assert_eq!(c.status, "cancelled");
    assert_eq!(c.units_used, i64::from(c.sent));
    let (used, reserved): (i64, i64) =
        sqlx::query_as("SELECT sum(used)::bigint, sum(reserved)::bigint FROM sms_packages")
            .fetch_one(&w.app.pool)
            .await
            .unwrap();
    assert_eq!(
        (used, reserved),
        (i64::from(c.sent), 0),
        "only what was sent is paid for"
    );
    let cancelled: i64 =
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE task_id = $1 AND state = 6")
            .bind(task)
            .fetch_one(&w.app.pool)
            .await
            .unwrap();
    assert_eq!(
        cancelled + i64::from(c.sent),
        400,
        "every message is either sent or cancelled"
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_scheduled_task_starts_at_its_second(pool: PgPool) {
    let w = world(pool, SimulatorSettings::default()).await;
    let _engine = engine(&w, 1);
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let task = task(
        &w,
        10,
        1,
        SendTime {
            at,
            zone: chrono_tz::Asia::Shanghai,
            now: false,
        },
    )
    .await;
    assert_eq!(counters(&w.app.pool, task).await.status, "scheduled");
    wait_for("the task to settle", async || {
        settled(&w.app.pool, task).await
    })
    .await;
    let started: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT started_at FROM tasks WHERE id = $1")
            .bind(task)
            .fetch_one(&w.app.pool)
            .await
            .unwrap();
    let late = (started - at).num_milliseconds();
    assert!(
        (0..1000).contains(&late),
        "started {late} ms after its second"
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn marketing_tasks_pause_outside_their_window_and_resume_inside_it(pool: PgPool) {
    let w = world(pool, SimulatorSettings::default()).await;
    let task = task(&w, 10, 1, now()).await;
    sqlx::query("UPDATE tasks SET sms_type = 1 WHERE id = $1")
        .bind(task)
        .execute(&w.app.pool)
        .await
        .unwrap();
    // A window an hour or two away from now, China time.
    let china = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .time();
    let hour = chrono::Duration::hours(1);
    let (start, end) = if chrono::Timelike::hour(&china) < 12 {
        (china + hour, china + hour * 2)
    } else {
        (china - hour * 2, china - hour)
    };
    sqlx::query("UPDATE organisation SET marketing_window_start = $1, marketing_window_end = $2")
        .bind(start)
        .bind(end)
        .execute(&w.app.pool)
        .await
        .unwrap();
    let _engine = engine(&w, 1);
    wait_for("the window to pause the task", async || {
        counters(&w.app.pool, task).await.status == "paused"
    })
    .await;
    let reason: String = sqlx::query_scalar("SELECT status_reason FROM tasks WHERE id = $1")
        .bind(task)
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
    assert!(reason.contains("marketing hours"), "{reason}");
    sqlx::query("UPDATE organisation SET marketing_window_start = '00:00', marketing_window_end = '23:59:59'")
        .execute(&w.app.pool)
        .await
        .unwrap();
    wait_for("the task to settle", async || {
        settled(&w.app.pool, task).await
    })
    .await;
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_task_the_carrier_mostly_refuses_pauses_itself_and_says_why(pool: PgPool) {
    let w = world(
        pool,
        SimulatorSettings {
            accept_rate: 0.1,
            seed: Some(9),
            ..Default::default()
        },
    )
    .await;
    let _engine = engine(&w, 1);
    let task = task(&w, 3000, 1, now()).await;
    wait_for("the task to pause", async || {
        counters(&w.app.pool, task).await.status == "paused"
    })
    .await;
    let reason: String = sqlx::query_scalar("SELECT status_reason FROM tasks WHERE id = $1")
        .bind(task)
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
    assert!(reason.starts_with("Paused automatically"), "{reason}");
    assert!(w.simulator.ledger().accepted + w.simulator.ledger().refused < 3000);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn receipts_are_idempotent_and_early_ones_wait_for_their_message(pool: PgPool) {
    // This carrier sends no receipts of its own: the test posts them.
    let w = world_with(pool, SimulatorSettings::default(), false).await;
    let task = task(
        &w,
        2,
        1,
        SendTime {
            at: chrono::Utc::now() + chrono::Duration::days(1),
            zone: chrono_tz::Asia::Shanghai,
            now: false,
        },
    )
    .await;
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM messages WHERE task_id = $1 ORDER BY id")
            .bind(task)
            .fetch_all(&w.app.pool)
            .await
            .unwrap();
    let post = |id: i64, status: &'static str| {
        let base = w.app.base.clone();
        let carrier = w.carrier;
        async move {
            reqwest::Client::new()
                .post(format!("{base}/receipts/{carrier}/receipt-token"))
                .json(&serde_json::json!([{
                    "user_receive_time": "2026-11-25 10:00:00", "nationcode": "86", "mobile": "13800000000",
                    "report_status": status, "errmsg": if status == "SUCCESS" { "DELIVRD" } else { "UNDELIV" },
                    "description": "", "sid": format!("sim-hm{id}")
                }]))
                .send()
                .await
                .unwrap()
        }
    };
    // Before the message was recorded: kept.
    let answer = post(ids[0], "SUCCESS").await;
    assert_eq!(
        answer.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"result": 0, "errmsg": "OK"})
    );
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM pending_receipts")
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
    assert_eq!(kept, 1);
    // A wrong token is refused.
    let refused = reqwest::Client::new()
        .post(format!("{}/receipts/{}/wrong", w.app.base, w.carrier))
        .json(&serde_json::json!([]))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    sqlx::query("UPDATE tasks SET status = 'sending' WHERE id = $1")
        .bind(task)
        .execute(&w.app.pool)
        .await
        .unwrap();
    let _engine = engine(&w, 1);
    wait_for("the task to complete", async || {
        counters(&w.app.pool, task).await.status == "completed"
    })
    .await;
    // The early receipt was applied when the result was recorded.
    let c = counters(&w.app.pool, task).await;
    assert_eq!((c.delivered, c.failed), (1, 0));
    // The other comes late, twice, then contradicts itself: the first one counts.
    post(ids[1], "FAIL").await;
    post(ids[1], "FAIL").await;
    post(ids[1], "SUCCESS").await;
    let c = counters(&w.app.pool, task).await;
    assert_eq!((c.delivered, c.failed), (1, 1));
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM pending_receipts")
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
    assert_eq!(kept, 0);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn admins_add_carriers_tune_the_simulator_and_choose_the_default(pool: PgPool) {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    let (status, body) = app
        .call(
            &admin,
            "add_http_carrier",
            &[
                ("name", "Gateway"),
                ("endpoint", "ftp://x"),
                ("secret", "short"),
                ("rate_limit", "0"),
                ("concurrency", "4"),
            ],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["Invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["endpoint", "secret", "rate_limit"]);
    let (status, body) = app
        .call(
            &admin,
            "add_http_carrier",
            &[
                ("name", "Gateway"),
                ("endpoint", "https://sms.example.com/send"),
                ("secret", "0123456789abcdef"),
                ("rate_limit", "200"),
                ("concurrency", "2"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, list) = app.call(&admin, "list_carriers", &[]).await;
    let gateway = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Gateway")
        .unwrap()
        .clone();
    assert_eq!(
        gateway["summary"], "https://sms.example.com/send",
        "the secret is never shown"
    );
    assert!(gateway["receipt_path"]
        .as_str()
        .unwrap()
        .starts_with(&format!("/receipts/{}/", gateway["id"])));

    let (status, _) = app
        .call(
            &admin,
            "set_default_carrier",
            &[("id", &gateway["id"].to_string())],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.count("SELECT count(*) FROM carriers WHERE is_default")
            .await,
        1
    );
    let default: String = sqlx::query_scalar("SELECT name FROM carriers WHERE is_default")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(default, "Gateway");

    let simulator = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "simulator")
        .unwrap()["id"]
        .to_string();
    let (status, body) = app
        .call(
            &admin,
            "update_simulator",
            &[
                ("id", &simulator),
                ("latency_ms", "5"),
                ("accept_rate", "0.5"),
                ("delivery_rate", "0.9"),
                ("transient_rate", "0.1"),
                ("receipt_delay_ms", "100"),
                ("rate_limit", "300"),
                ("concurrency", "3"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (settings, rate): (serde_json::Value, i32) =
        sqlx::query_as("SELECT settings, rate_limit FROM carriers WHERE kind = 'simulator'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((settings["accept_rate"].as_f64(), rate), (Some(0.5), 300));

    app.create_user(
        &admin,
        "mia@example.com",
        "marketing password 1",
        &["marketer"],
    )
    .await;
    let (marketer, _, _) = app.log_in("mia@example.com", "marketing password 1").await;
    let (status, _) = app
        .call(&marketer, "set_default_carrier", &[("id", &simulator)])
        .await;
    assert_eq!(status, 403);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_refusing_carrier_fails_over_to_its_secondary(pool: PgPool) {
    // The primary refuses every call (throttled); the secondary takes the traffic.
    let w = world(
        pool,
        SimulatorSettings {
            transient_rate: 1.0,
            ..Default::default()
        },
    )
    .await;
    let secondary = Arc::new(Simulator::new(
        SimulatorSettings::default(),
        Some(format!(
            "{}/receipts/{}/receipt-token",
            w.app.base, w.carrier
        )),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/send", listener.local_addr().unwrap());
    let router = herald::simulator::router(Arc::clone(&secondary), None);
    tokio::spawn(async move { axum::serve(listener, router).await });
    let backup: i64 = sqlx::query_scalar(
        "INSERT INTO carriers (name, kind, settings, rate_limit, concurrency, receipt_token)
         VALUES ('Backup', 'http', $1, 100000, 8, 'backup-token') RETURNING id",
    )
    .bind(serde_json::json!({ "endpoint": endpoint, "secret": "unused" }))
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE carriers SET failover_carrier_id = $2, failover_after = 2 WHERE id = $1")
        .bind(w.carrier)
        .bind(backup)
        .execute(&w.app.pool)
        .await
        .unwrap();
    let _engine = engine(&w, 1);
    let task = task(&w, 300, 3, now()).await;
    wait_for("the task to settle", async || {
        settled(&w.app.pool, task).await
    })
    .await;
    let (primary, backup) = (w.simulator.ledger(), secondary.ledger());
    assert_eq!(primary.accepted, 0);
    assert!(primary.transient_failures >= 2, "{primary:?}");
    assert_eq!((backup.accepted, backup.duplicates), (300, 0));
    assert_eq!(counters(&w.app.pool, task).await.delivered, 300);
}
