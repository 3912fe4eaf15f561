//! `make bench-analytics`: 10 M message rows (one task of 1 M recipients, the rest in 90 tasks of
//! 100 k) and a month of hourly statistics for 3 applications × 5 signatures × 10 templates × 3
//! types, then the server time of what the pages ask: a task's analytics, statistics under each
//! filter, a page of per-recipient records and a number search in the 1 M task. Beside them, in the
//! same run, the raw scan the counters replace (a GROUP BY over the task's messages). Last line
//! JSON.

use std::time::Instant;

use app::stats::model::Granularity;
use app::stats::repo::{statistics, task_analytics, StatsFilter};
use sqlx::PgPool;

const BIG_TASK: i64 = 1_000_000;
const OTHER_TASKS: i64 = 90;
const OTHER_TASK_SIZE: i64 = 100_000;

/// Median milliseconds of five runs (after one warm-up).
async fn median_ms<F, Fut, T>(mut run: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    run().await;
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        run().await;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[2] * 10.0).round() / 10.0
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL (make bench-analytics sets it)");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .expect("connect");
    herald::migrate(&pool).await.expect("migrate");
    let started = Instant::now();
    let big = prepare(&pool).await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&pool)
        .await
        .expect("count");
    println!(
        "loaded {rows} messages in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let task_ms =
        median_ms(|| async { task_analytics(&pool, big).await.expect("analytics") }).await;
    let raw_ms = median_ms(|| async {
        sqlx::query(
            "SELECT state, code, mobile_operator(phone), count(*) FROM messages
              WHERE task_id = $1 GROUP BY 1, 2, 3",
        )
        .bind(big)
        .fetch_all(&pool)
        .await
        .expect("raw")
    })
    .await;
    println!("task analytics of the 1 M task: {task_ms} ms (goal < 100); the raw GROUP BY it replaces: {raw_ms} ms");

    let until = chrono::Utc::now() + chrono::Duration::hours(1);
    let month = until - chrono::Duration::days(31);
    let week = until - chrono::Duration::days(7);
    let filter = |application, signature, template, sms_type, from, granularity| StatsFilter {
        application,
        signature,
        template,
        sms_type,
        from,
        until,
        granularity,
    };
    let filters = [
        (
            "all, 31 days by day",
            filter(None, None, None, None, month, Granularity::Day),
        ),
        (
            "application, 31 days by day",
            filter(Some(2), None, None, None, month, Granularity::Day),
        ),
        (
            "application + signature",
            filter(Some(2), Some(3), None, None, month, Granularity::Day),
        ),
        (
            "template",
            filter(None, None, Some(7), None, month, Granularity::Day),
        ),
        (
            "SMS type",
            filter(None, None, None, Some(1), month, Granularity::Day),
        ),
        (
            "all, 7 days by hour",
            filter(None, None, None, None, week, Granularity::Hour),
        ),
        (
            "application, 7 days by hour",
            filter(Some(1), None, None, None, week, Granularity::Hour),
        ),
    ];
    let mut stats_ms_max: f64 = 0.0;
    for (name, f) in &filters {
        let ms = median_ms(|| async { statistics(&pool, f).await.expect("statistics") }).await;
        println!("statistics, {name}: {ms} ms (goal < 300)");
        stats_ms_max = stats_ms_max.max(ms);
    }
    let filter = app::receipts::model::MessageFilter::default();
    let page_ms = median_ms(|| async {
        app::receipts::repo::messages(&pool, big, &filter, Some(500_000))
            .await
            .expect("page")
    })
    .await;
    let search = app::receipts::model::MessageFilter::parse("13900999999", "", "");
    let search_ms = median_ms(|| async {
        app::receipts::repo::messages(&pool, big, &search, None)
            .await
            .expect("search")
    })
    .await;
    println!(
        "records: a page deep in the 1 M task {page_ms} ms; a number search over it {search_ms} ms"
    );
    println!(
        "{}",
        serde_json::json!({
            "bench": "analytics",
            "rows": rows,
            "task_ms": task_ms,
            "stats_ms_max": stats_ms_max,
            "raw_group_by_ms": raw_ms,
            "records_page_ms": page_ms,
            "number_search_ms": search_ms,
        })
    );
    std::process::exit(0);
}

/// A fresh database state: the messages, and the counters the write path would have kept for
/// them (built here in one pass, as sending and receipts would have built them row by row).
async fn prepare(pool: &PgPool) -> i64 {
    let run = |sql: &'static str| async move {
        sqlx::query(sql).execute(pool).await.expect(sql);
    };
    run(
        "TRUNCATE messages, dispatch_chunks, pending_receipts, task_reservations, task_seconds,
                  task_latency, task_failures, task_operators, stats_hourly, tasks, recipients,
                  recipient_uploads, templates, signatures, documents, applications, sms_packages,
                  audit_log, users CASCADE",
    )
    .await;
    run(
        "INSERT INTO users (email, display_name, password_hash, roles)
         VALUES ('bench@example.com', 'Bench', 'x', ARRAY['marketer'])",
    )
    .await;
    run(
        "INSERT INTO applications (id, sdk_app_id, name) OVERRIDING SYSTEM VALUE
         SELECT g, 1400000000 + g, 'App ' || g FROM generate_series(1, 3) g",
    )
    .await;
    // One upload per task: the big one and the others.
    sqlx::query(
        "INSERT INTO recipient_uploads (application_id, file_name, file_bytes, state, total_rows,
                                        accepted, units, uploaded_by)
         SELECT 1, 'bench ' || g, 1, 'ready', 1, 1, 1, (SELECT id FROM users)
           FROM generate_series(0, $1) g",
    )
    .bind(OTHER_TASKS)
    .execute(pool)
    .await
    .expect("uploads");
    sqlx::query(
        "INSERT INTO tasks (name, upload_id, application_id, signature_text, template_name,
                            template_text, sms_type, status, send_at, time_zone, recipients, sent,
                            delivered, failed, units_reserved, units_used, created_by)
         SELECT 'Bench ' || u.id, u.id, 1 + u.id % 3, 'Herald', 'Shipped',
                'Your order {1} has shipped.', 2, 'completed', now(), 'Asia/Shanghai',
                CASE WHEN u.id = (SELECT min(id) FROM recipient_uploads) THEN $1 ELSE $2 END,
                0, 0, 0, 0, 0, (SELECT id FROM users)
           FROM recipient_uploads u",
    )
    .bind(BIG_TASK as i32)
    .bind(OTHER_TASK_SIZE as i32)
    .execute(pool)
    .await
    .expect("tasks");
    let big: i64 = sqlx::query_scalar("SELECT min(id) FROM tasks")
        .fetch_one(pool)
        .await
        .expect("task");
    // Messages of every task, in id ranges; states and codes spread as a real campaign's are.
    sqlx::query(
        "INSERT INTO messages (task_id, phone, params, units, state, serial_no, code, submitted_at,
                               done_at)
         SELECT t.id, '+86' || (13000000000 + g * 7 % 99999999999)::text, ARRAY['A' || g], 1,
                CASE WHEN g % 20 = 0 THEN 4 ELSE 3 END, 'sim-hm' || g,
                CASE WHEN g % 20 = 0 THEN (ARRAY['UNDELIV', 'EXPIRED', 'REJECTD', 'MK:0001'])[1 + g % 4]
                     ELSE 'DELIVRD' END,
                now() - interval '1 hour', now() - interval '1 hour' + (g % 600) * interval '1 second'
           FROM tasks t
           CROSS JOIN LATERAL generate_series(1, t.recipients) g
          ORDER BY t.id, g",
    )
    .execute(pool)
    .await
    .expect("messages");
    run(
        "UPDATE tasks t SET first_message_id = r.lo, last_message_id = r.hi, sent = t.recipients,
                            delivered = r.delivered, failed = t.recipients - r.delivered,
                            units_used = t.recipients
           FROM (SELECT task_id, min(id) lo, max(id) hi, count(*) FILTER (WHERE state = 3) delivered
                   FROM messages GROUP BY task_id) r
          WHERE r.task_id = t.id",
    )
    .await;
    // The counters of the big task, as the write path keeps them.
    run(
        "INSERT INTO task_seconds (task_id, second, submitted, delivered, failed)
         SELECT task_id, date_trunc('second', done_at), count(*), count(*) FILTER (WHERE state = 3),
                count(*) FILTER (WHERE state = 4)
           FROM messages WHERE task_id = (SELECT min(id) FROM tasks) GROUP BY 1, 2",
    )
    .await;
    run("INSERT INTO task_latency (task_id, bucket, receipts)
         SELECT task_id, greatest(width_bucket(extract(epoch FROM done_at - submitted_at),
                                  ARRAY[0, 1, 5, 10, 30, 60, 300, 1800, 7200]::float8[]) - 1, 0), count(*)
           FROM messages WHERE task_id = (SELECT min(id) FROM tasks) GROUP BY 1, 2")
    .await;
    run("INSERT INTO task_failures (task_id, code, messages)
         SELECT task_id, code, count(*) FROM messages
          WHERE task_id = (SELECT min(id) FROM tasks) AND state = 4 GROUP BY 1, 2")
    .await;
    run("INSERT INTO task_operators (task_id, operator, recipients, submitted, delivered, failed)
         SELECT task_id, mobile_operator(phone), count(*), count(*), count(*) FILTER (WHERE state = 3),
                count(*) FILTER (WHERE state = 4)
           FROM messages WHERE task_id = (SELECT min(id) FROM tasks) GROUP BY 1, 2")
    .await;
    // A month of hourly statistics over every combination of filters.
    run(
        "INSERT INTO stats_hourly (hour, application_id, signature_id, template_id, sms_type,
                                   requests, submitted, units, receipts_ok, receipts_fail)
         SELECT h, a, s, t, ty, 100 + (a * s * t) % 50, 95, 97, 90, 5
           FROM generate_series(date_trunc('hour', now()) - interval '31 days',
                                date_trunc('hour', now()), interval '1 hour') h,
                generate_series(1, 3) a, generate_series(1, 5) s, generate_series(1, 10) t,
                generate_series(1, 3) ty",
    )
    .await;
    run("VACUUM ANALYZE messages").await;
    run("VACUUM ANALYZE stats_hourly").await;
    big
}
