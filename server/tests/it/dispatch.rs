//! The dispatch engine against a real database and the carrier simulator reached over HTTP (so
//! its ledger can be read): every message sent once, receipts applied, units consumed, pause /
//! cancel honoured, dead workers' chunks recovered, several engines sharing one task.

use std::sync::Arc;
use std::time::Duration;

use crate::common;
use crate::common::sending::*;
use crate::common::spawn;
use app::campaigns::schedule::SendTime;
use app::campaigns::service::{self, TaskAction};
use app::carriers::model::SimulatorSettings;
use app::carriers::simulator::{LedgerSummary, Simulator};
use sqlx::PgPool;

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
    let chunk = app::dispatch::queue::claim(&w.app.pool, dead, 30, &[])
        .await
        .unwrap()
        .expect("a chunk");
    let taken = app::dispatch::queue::take_messages(&w.app.pool, &chunk, true)
        .await
        .unwrap();
    let batch = app::carriers::carrier::Batch {
        sign: "Herald".into(),
        content: "【Herald】Dear n0, happy new year from Acme.".into(),
        template_id: 0,
        params: vec![],
        messages: taken
            .iter()
            .map(|m| app::carriers::carrier::Outgoing {
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
    set_up_sms_alerts(&w).await;
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
    // The alarm contact's phone is told, once (the alert follows the pause's commit).
    wait_for("the SMS alert", async || {
        !sms_alerts(&w.app.pool).await.is_empty()
    })
    .await;
    assert_eq!(
        sms_alerts(&w.app.pool).await,
        vec![(
            "+8613912345678".to_owned(),
            "群发任务“Greetings”失败过多，已自动暂停".to_owned()
        )]
    );
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
    // Not handed to the carrier yet: no receipt for it can be genuine, so none is kept.
    post(ids[1], "FAIL").await;
    // Being handed over (the carrier answered, its result not recorded yet): kept.
    sqlx::query("UPDATE messages SET state = 1 WHERE id = $1")
        .bind(ids[0])
        .execute(&w.app.pool)
        .await
        .unwrap();
    let answer = post(ids[0], "SUCCESS").await;
    assert_eq!(
        answer.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"result": 0, "errmsg": "OK"})
    );
    let kept: Vec<i64> = sqlx::query_scalar("SELECT message_id FROM pending_receipts")
        .fetch_all(&w.app.pool)
        .await
        .unwrap();
    assert_eq!(kept, [ids[0]]);
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
    let stored: String =
        sqlx::query_scalar("SELECT settings->>'secret' FROM carriers WHERE name = 'Gateway'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(
        app::secrets::SecretBox::is_sealed(&stored) && !stored.contains("0123456789abcdef"),
        "the secret is stored sealed: {stored}"
    );
    assert_eq!(common::secrets().open(&stored).unwrap(), "0123456789abcdef");
    let audited: String = sqlx::query_scalar(
        "SELECT details::text FROM audit_log WHERE action = 'carrier.create' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        !audited.contains("0123456789abcdef") && !audited.contains(&stored),
        "{audited}"
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/send", listener.local_addr().unwrap());
    let backup: i64 = sqlx::query_scalar(
        "INSERT INTO carriers (name, kind, settings, rate_limit, concurrency, receipt_token)
         VALUES ('Backup', 'http', $1, 100000, 8, 'backup-token') RETURNING id",
    )
    .bind(serde_json::json!({ "endpoint": endpoint, "secret": common::secrets().seal("unused") }))
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    // Its receipts come through its own door: the primary's would not settle its messages.
    let secondary = Arc::new(Simulator::new(
        SimulatorSettings::default(),
        Some(format!("{}/receipts/{backup}/backup-token", w.app.base)),
    ));
    let router = herald::simulator::router(Arc::clone(&secondary), None);
    tokio::spawn(async move { axum::serve(listener, router).await });
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

/// A stand-in for Tencent Cloud SMS: verifies each request's TC3 signature, sends nothing twice
/// in its own books, hands delivery statuses out once through PullSmsSendStatus, and can answer
/// one SendSms call too late (after recording it, as a real timeout can).
struct FakeTencent {
    secret_id: String,
    secret_key: String,
    /// Every number SendSms took, with its serial.
    sent: std::sync::Mutex<Vec<(String, String)>>,
    statuses: std::sync::Mutex<std::collections::VecDeque<serde_json::Value>>,
    calls: std::sync::atomic::AtomicUsize,
    /// The SendSms call (1-based) that answers after the client gave up.
    slow_call: usize,
    refused_signatures: std::sync::atomic::AtomicUsize,
}

impl FakeTencent {
    fn error(code: &str, message: &str) -> serde_json::Value {
        serde_json::json!({ "Response": { "Error": { "Code": code, "Message": message },
                                          "RequestId": uuid::Uuid::new_v4().to_string() } })
    }

    async fn handle(
        axum::extract::State(fake): axum::extract::State<Arc<FakeTencent>>,
        headers: axum::http::HeaderMap,
        body: axum::body::Bytes,
    ) -> axum::Json<serde_json::Value> {
        use std::sync::atomic::Ordering;
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let timestamp: i64 = header("x-tc-timestamp")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let verified = header("authorization")
            .and_then(|a| app::tencent::tc3::Credential::parse(&a))
            .is_some_and(|c| {
                c.secret_id == fake.secret_id
                    && c.service == "sms"
                    && c.verifies(&fake.secret_key, timestamp, header, &body)
            });
        if !verified || header("x-tc-version").as_deref() != Some("2021-01-11") {
            fake.refused_signatures.fetch_add(1, Ordering::SeqCst);
            return axum::Json(Self::error(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated.",
            ));
        }
        let request: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let request_id = uuid::Uuid::new_v4().to_string();
        match header("x-tc-action").as_deref() {
            Some("SendSms") => {
                assert_eq!(request["SmsSdkAppId"], "1400006666");
                assert_eq!(request["TemplateId"], "7654321", "mapped template id");
                assert_eq!(request["SignName"], "Herald");
                let call = fake.calls.fetch_add(1, Ordering::SeqCst) + 1;
                let session = request["SessionContext"].as_str().unwrap().to_owned();
                let mut set = Vec::new();
                for phone in request["PhoneNumberSet"].as_array().unwrap() {
                    let phone = phone.as_str().unwrap().to_owned();
                    if phone.ends_with("00000003") {
                        set.push(serde_json::json!({ "SerialNo": "", "PhoneNumber": phone, "Fee": 0,
                            "SessionContext": session, "Code": "LimitExceeded.PhoneNumberDailyLimit",
                            "Message": "the number reached its daily limit", "IsoCode": "CN" }));
                        continue;
                    }
                    let serial = format!("2019:{}", uuid::Uuid::new_v4().simple());
                    fake.sent
                        .lock()
                        .unwrap()
                        .push((phone.clone(), serial.clone()));
                    fake.statuses.lock().unwrap().push_back(serde_json::json!({
                        "UserReceiveTime": "2026-11-25 12:00:00", "CountryCode": "86",
                        "SubscriberNumber": phone.trim_start_matches("+86"), "PhoneNumber": phone,
                        "SerialNo": serial, "ReportStatus": "SUCCESS", "Description": "DELIVRD",
                        "SessionContext": session }));
                    set.push(
                        serde_json::json!({ "SerialNo": serial, "PhoneNumber": phone, "Fee": 1,
                        "SessionContext": session, "Code": "Ok", "Message": "send success",
                        "IsoCode": "CN" }),
                    );
                }
                if call == fake.slow_call {
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                }
                axum::Json(serde_json::json!({ "Response": { "SendStatusSet": set,
                                                             "RequestId": request_id } }))
            }
            Some("PullSmsSendStatus") => {
                let limit = request["Limit"].as_u64().unwrap_or(100) as usize;
                let mut statuses = fake.statuses.lock().unwrap();
                let n = limit.min(statuses.len());
                let page: Vec<serde_json::Value> = statuses.drain(..n).collect();
                axum::Json(
                    serde_json::json!({ "Response": { "PullSmsSendStatusSet": page,
                                                             "RequestId": request_id } }),
                )
            }
            _ => axum::Json(Self::error("InvalidAction", "unknown action")),
        }
    }
}

async fn fake_tencent(secret_key: &str, slow_call: usize) -> (Arc<FakeTencent>, String) {
    let fake = Arc::new(FakeTencent {
        secret_id: "AKIDtestHERALD0001".into(),
        secret_key: secret_key.into(),
        sent: Default::default(),
        statuses: Default::default(),
        calls: Default::default(),
        slow_call,
        refused_signatures: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/", listener.local_addr().unwrap());
    let router = axum::Router::new()
        .route("/", axum::routing::post(FakeTencent::handle))
        .with_state(Arc::clone(&fake));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (fake, endpoint)
}

/// Adds a Tencent carrier the way an admin does and makes it the application's carrier.
async fn tencent_carrier_for_the_application(world: &World, endpoint: &str, key: &str) -> i64 {
    let (admin, status, _) = world
        .app
        .log_in(common::ADMIN_EMAIL, common::ADMIN_PASSWORD)
        .await;
    assert!(status.is_success());
    let templates = format!("{} = 7654321", world.catalogue.notification);
    let (status, body) = world
        .app
        .call(
            &admin,
            "add_tencent_carrier",
            &[
                ("name", "Tencent"),
                ("endpoint", endpoint),
                ("region", "ap-guangzhou"),
                ("secret_id", "AKIDtestHERALD0001"),
                ("secret_key", key),
                ("sdk_app_id", "1400006666"),
                ("templates", &templates),
                ("reconcile_minutes", "60"),
                ("rate_limit", "10000"),
                ("concurrency", "4"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let carrier: i64 = sqlx::query_scalar("SELECT id FROM carriers WHERE name = 'Tencent'")
        .fetch_one(&world.app.pool)
        .await
        .unwrap();
    let stored: String =
        sqlx::query_scalar("SELECT settings->>'secret_key' FROM carriers WHERE id = $1")
            .bind(carrier)
            .fetch_one(&world.app.pool)
            .await
            .unwrap();
    assert!(!stored.contains(key), "the SecretKey is stored sealed");
    sqlx::query("UPDATE carriers SET settings = settings || '{\"timeout_ms\": 700}' WHERE id = $1")
        .bind(carrier)
        .execute(&world.app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE applications SET carrier_id = $2 WHERE id = $1")
        .bind(world.catalogue.application)
        .bind(carrier)
        .execute(&world.app.pool)
        .await
        .unwrap();
    carrier
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn tencent_sends_once_even_when_a_call_times_out_and_statuses_settle_it(pool: PgPool) {
    let w = world(pool, SimulatorSettings::default()).await;
    let key = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
    // The second call answers after the carrier's 700 ms timeout: its outcome is unknown.
    let (fake, endpoint) = fake_tencent(key, 2).await;
    let carrier = tencent_carrier_for_the_application(&w, &endpoint, key).await;
    let _engine = engine(&w, 1);
    // 900 recipients with 3 contents: 6 calls of up to 200 numbers.
    let task = task(&w, 900, 3, now()).await;
    let task_carrier: Option<i64> =
        sqlx::query_scalar("SELECT carrier_id FROM tasks WHERE id = $1")
            .bind(task)
            .fetch_one(&w.app.pool)
            .await
            .unwrap();
    assert_eq!(
        task_carrier,
        Some(carrier),
        "the task goes through its application's carrier"
    );

    wait_for("every message to settle", async || {
        settled(&w.app.pool, task).await
    })
    .await;
    let sent = fake.sent.lock().unwrap().clone();
    let mut phones: Vec<&String> = sent.iter().map(|(p, _)| p).collect();
    phones.sort();
    let before = phones.len();
    phones.dedup();
    assert_eq!(before, phones.len(), "no number reached Tencent twice");
    assert_eq!(before, 899, "every number but the one over its daily limit");
    assert_eq!(
        fake.calls.load(std::sync::atomic::Ordering::SeqCst),
        6,
        "the timed-out call was not made again"
    );
    assert_eq!(
        fake.refused_signatures
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );

    let c = counters(&w.app.pool, task).await;
    assert_eq!((c.delivered, c.failed), (899, 1), "{c:?}");
    let limited: String = sqlx::query_scalar(
        "SELECT code FROM messages WHERE task_id = $1 AND phone LIKE '%00000003'",
    )
    .bind(task)
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    assert_eq!(limited, "LimitExceeded.PhoneNumberDailyLimit");
    // The timed-out call's messages were settled by statuses, under Tencent's serials.
    let unserialled: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages WHERE task_id = $1 AND state = 3 AND serial_no IS NULL",
    )
    .bind(task)
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    assert_eq!(unserialled, 0);
    assert_eq!(
        w.app
            .count("SELECT count(*) FROM unconfirmed_messages")
            .await,
        0
    );
    let serials: std::collections::HashMap<String, String> = sent.into_iter().collect();
    let recorded: Vec<(String, String)> =
        sqlx::query_as("SELECT phone, serial_no FROM messages WHERE task_id = $1 AND state = 3")
            .bind(task)
            .fetch_all(&w.app.pool)
            .await
            .unwrap();
    for (phone, serial) in recorded {
        assert_eq!(serials.get(&phone), Some(&serial), "{phone}");
    }
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_wrong_tencent_key_fails_the_messages_with_tencents_code(pool: PgPool) {
    let w = world(pool, SimulatorSettings::default()).await;
    let (fake, endpoint) = fake_tencent("the key Tencent really has 0001", 0).await;
    tencent_carrier_for_the_application(&w, &endpoint, "aDifferentKeyEnteredByMistake1").await;
    let _engine = engine(&w, 1);
    let task = task(&w, 5, 1, now()).await;
    wait_for("the task to end", async || settled(&w.app.pool, task).await).await;
    assert!(fake.sent.lock().unwrap().is_empty());
    assert!(
        fake.refused_signatures
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 1
    );
    let codes: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT code FROM messages WHERE task_id = $1")
            .bind(task)
            .fetch_all(&w.app.pool)
            .await
            .unwrap();
    assert_eq!(codes, ["AuthFailure.SignatureFailure"]);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn frequency_limits_reject_what_is_over_them_with_tencents_codes(pool: PgPool) {
    let w = world(pool, SimulatorSettings::default()).await;
    let _engine = engine(&w, 2);
    // One number already had its 10 messages today (from other sends of this application).
    let busy = "+8613800000002";
    let earlier: Vec<app::limits::store::Attempt> = (0..10)
        .map(|i| app::limits::store::Attempt {
            message_id: 1_000_000 + i,
            phone: busy.into(),
            content: format!("earlier {i}"),
        })
        .collect();
    let rules = app::limits::FrequencyRules::default();
    let hits = w
        .limiter
        .admit(w.catalogue.application, &rules, &earlier)
        .await
        .unwrap();
    assert!(hits.iter().all(Option::is_none));

    let first = task(&w, 5, 5, now()).await;
    wait_for("the first task", async || settled(&w.app.pool, first).await).await;
    let codes: Vec<(String, Option<String>, i16)> = sqlx::query_as(
        "SELECT phone, code, state FROM messages WHERE task_id = $1 AND state = 5 ORDER BY id",
    )
    .bind(first)
    .fetch_all(&w.app.pool)
    .await
    .unwrap();
    assert_eq!(
        codes,
        [(
            busy.to_owned(),
            Some("LimitExceeded.PhoneNumberDailyLimit".to_owned()),
            5
        )]
    );
    let c = counters(&w.app.pool, first).await;
    assert_eq!(
        (c.sent, c.units_used),
        (4, 4),
        "the rejected message used no units"
    );

    // The same campaign again at once: the same content to the same numbers within 30 s.
    let again = task(&w, 5, 5, now()).await;
    wait_for("the repeated task", async || {
        settled(&w.app.pool, again).await
    })
    .await;
    let codes: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT code FROM messages WHERE task_id = $1 ORDER BY code")
            .bind(again)
            .fetch_all(&w.app.pool)
            .await
            .unwrap();
    assert_eq!(
        codes,
        [
            "LimitExceeded.PhoneNumberDailyLimit",
            "LimitExceeded.PhoneNumberThirtySecondLimit"
        ]
    );
    assert_eq!(counters(&w.app.pool, again).await.sent, 0);
    assert_eq!(
        w.simulator.ledger().accepted,
        4,
        "nothing of the repeat reached the carrier"
    );
}
