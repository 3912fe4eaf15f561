//! `make bench-dispatch`: dispatches a 1 M-recipient task to the in-process simulator with no
//! latency (and no receipts: this measures sending) and prints messages per second and the time
//! to drain, beside a raw `UPDATE` of the same rows in the same run. Every message's state is
//! durable in Postgres, and every message is counted against the frequency limits in Redis
//! (REDIS_URL, default the local one), as a production server with Redis does. The last line is
//! JSON for scripts.

mod fixtures;

use std::time::{Duration, Instant};

use app::dispatch::engine::{Engine, EngineConfig};
use sqlx::PgPool;

const MESSAGES: i64 = 1_000_000;

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL (make bench-dispatch sets it)");
    let workers: usize = std::env::var("HERALD_BENCH_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(4);
    // The server's own pool, as `herald serve` opens it.
    let pool = herald::connect(&herald::config::DatabaseConfig {
        database_url: url.clone(),
        db_max_connections: workers as u32 + 6,
    })
    .await
    .expect("connect");
    herald::migrate(&pool).await.expect("migrate");
    let task = prepare(&pool).await;
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let limiter = if std::env::var("HERALD_BENCH_LIMITS").as_deref() == Ok("memory") {
        app::limits::store::Limiter::in_memory()
    } else {
        app::limits::store::Limiter::redis(
            &redis,
            &format!("herald-bench:{}:", uuid::Uuid::new_v4()),
        )
        .await
        .expect("Redis (make bench-dispatch starts it)")
    };

    let started = Instant::now();
    Engine::spawn(
        pool.clone(),
        EngineConfig {
            workers,
            public_url: "http://127.0.0.1:9".into(),
            lease_seconds: 30,
            secrets: app::secrets::SecretBox::from_key_material(
                &app::secrets::SecretBox::generate_key_material(),
            )
            .expect("key"),
            limiter: std::sync::Arc::new(limiter),
        },
    );
    sqlx::query("UPDATE tasks SET status = 'sending' WHERE id = $1; ")
        .bind(task)
        .execute(&pool)
        .await
        .expect("start");
    sqlx::query("SELECT pg_notify('herald_dispatch', '')")
        .execute(&pool)
        .await
        .expect("notify");
    loop {
        let status: String = sqlx::query_scalar("SELECT status FROM tasks WHERE id = $1")
            .bind(task)
            .fetch_one(&pool)
            .await
            .expect("status");
        if status != "sending" {
            assert_eq!(status, "completed");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let submitted: i64 =
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE task_id = $1 AND state = 2")
            .bind(task)
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(submitted, MESSAGES, "every message recorded as submitted");

    let raw = Instant::now();
    sqlx::query(
        "UPDATE messages SET state = 3, serial_no = 'raw-' || id, done_at = now() WHERE task_id = $1",
    )
    .bind(task)
    .execute(&pool)
    .await
    .expect("raw update");
    let raw_rows_per_s = MESSAGES as f64 / raw.elapsed().as_secs_f64();
    let msg_per_s = MESSAGES as f64 / seconds;
    println!("dispatched {MESSAGES} messages with {workers} workers in {seconds:.2} s: {msg_per_s:.0} msg/s (goal >= 50,000)");
    println!("raw UPDATE of the same rows, one statement: {raw_rows_per_s:.0} rows/s");
    println!(
        "{}",
        serde_json::json!({
            "bench": "dispatch",
            "messages": MESSAGES,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "msg_per_s": msg_per_s.round(),
            "raw_update_rows_per_s": raw_rows_per_s.round(),
        })
    );
    std::process::exit(0);
}

/// A fresh database state with one scheduled task of `MESSAGES` recipients, its units reserved,
/// and a zero-latency simulator as the default carrier.
async fn prepare(pool: &PgPool) -> i64 {
    sqlx::query(
        "TRUNCATE messages, dispatch_chunks, pending_receipts, task_reservations, tasks, recipients,
                  recipient_uploads, templates, signatures, documents, applications, sms_packages,
                  audit_log, users CASCADE",
    )
    .execute(pool)
    .await
    .expect("reset");
    fixtures::instant_simulator(pool).await;
    let user: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, display_name, password_hash, roles)
         VALUES ('bench@example.com', 'Bench', 'x', ARRAY['marketer']) RETURNING id",
    )
    .fetch_one(pool)
    .await
    .expect("user");
    let application: i64 = sqlx::query_scalar(
        "INSERT INTO applications (sdk_app_id, name) VALUES (1400000001, 'Bench') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .expect("application");
    let upload: i64 = sqlx::query_scalar(
        "INSERT INTO recipient_uploads (application_id, file_name, file_bytes, state, total_rows,
                                        accepted, units, uploaded_by)
         VALUES ($1, 'bench', 1, 'ready', $2, $2, $2, $3) RETURNING id",
    )
    .bind(application)
    .bind(MESSAGES as i32)
    .bind(user)
    .fetch_one(pool)
    .await
    .expect("upload");
    let package: i64 = sqlx::query_scalar(
        "INSERT INTO sms_packages (units, package_type, reserved) VALUES ($1 * 2, 1, $1) RETURNING id",
    )
    .bind(MESSAGES)
    .fetch_one(pool)
    .await
    .expect("package");
    let task: i64 = sqlx::query_scalar(
        "INSERT INTO tasks (name, upload_id, application_id, signature_text, template_name,
                            template_text, sms_type, status, send_at, time_zone, recipients,
                            units_reserved, created_by)
         VALUES ('Bench', $1, $2, 'Herald', 'Shipped', 'Your order {1} has shipped.', 2,
                 'scheduled', now() + interval '1 day', 'Asia/Shanghai', $3, $3, $4)
         RETURNING id",
    )
    .bind(upload)
    .bind(application)
    .bind(MESSAGES as i32)
    .bind(user)
    .fetch_one(pool)
    .await
    .expect("task");
    sqlx::query("INSERT INTO task_reservations (task_id, package_id, units) VALUES ($1, $2, $3)")
        .bind(task)
        .bind(package)
        .bind(MESSAGES)
        .execute(pool)
        .await
        .expect("reservation");
    // Recipients as an import stores them; the task's messages are made from them as usual.
    sqlx::query(
        "INSERT INTO recipients (upload_id, row_no, phone, params, units)
         SELECT $1, g, '+86' || (13000000000 + g * 7)::text, ARRAY['A' || lpad(g::text, 7, '0')], 1
           FROM generate_series(1, $2) g",
    )
    .bind(upload)
    .bind(MESSAGES)
    .execute(pool)
    .await
    .expect("recipients");
    let mut tx = pool.begin().await.expect("tx");
    app::dispatch::queue::enqueue(&mut tx, task, upload)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    sqlx::query("VACUUM ANALYZE messages")
        .execute(pool)
        .await
        .expect("vacuum");
    task
}
