//! `make bench-verify`: the verification-code endpoint under load on loopback, with the
//! in-process simulator (no latency, no receipts) as the carrier, codes and limits in Redis and
//! every code's message durable in Postgres: after a warm-up, getSms to distinct numbers at a
//! steady 3,000 requests a second, timed from each request's planned moment (a stricter view of
//! the tail than wrk's, which waits for each answer before asking again), then as fast as wrk's
//! 32 connections go (the goal's figures); then logins, each the first with the right code for
//! its number; beside `redis-benchmark` GET against the same Redis in the same run.
//! Goal: getSms >= 3,000 req/s with p99 < 20 ms; login >= 20 % of the raw Redis GET rate. The
//! last line is JSON for scripts.

mod fixtures;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;

use app::state::AppState;
use herald::config::{DatabaseConfig, SecretConfig, ServeConfig};
use sqlx::PgPool;

const SECONDS: u32 = 10;
const CONNECTIONS: u32 = 32;
/// The getSms rate the goal names, for the latency at that load.
const PACED_RATE: u32 = 3_000;
const PUBLIC_KEY: &str = "pk_bench0000000000000000000000000000";
const LOGIN_CODE: &str = "135790";
/// Codes kept per wrk thread for the login run (wrk's thread t uses numbers t·10⁷ + 1, …).
const CODES_PER_THREAD: u64 = 200_000;

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL (make bench-verify sets it)");
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    // The server's own pool, as `herald serve` opens it.
    let database = DatabaseConfig {
        database_url: url.clone(),
        db_max_connections: 40,
    };
    let pool = herald::connect(&database).await.expect("connect");
    herald::migrate(&pool).await.expect("migrate");
    let application = prepare(&pool).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let secret_key = app::secrets::SecretBox::generate_key_material();
    let config = ServeConfig {
        database,
        addr,
        site_root: "target/site".into(),
        cookie_secure: false,
        session_hours: 12,
        trust_proxy: false,
        dispatch_workers: 4,
        dispatch_lease_seconds: 30,
        public_url: Some(format!("http://{addr}")),
        secrets: SecretConfig {
            secret_key: Some(secret_key.clone()),
            data_dir: std::env::temp_dir(),
        },
        redis_url: Some(redis.clone()),
        tencent_api_path: "/".into(),
        verify_path: "/verify".into(),
        redis_prefix: format!("herald-bench:{}:", uuid::Uuid::new_v4()),
        // As production runs it: every request counted for /metrics.
        metrics_token: Some("bench".into()),
    };
    let secrets = config.secrets.secret_box().expect("secret box");
    let codes = Arc::new(config.code_store().await.expect("Redis"));
    let limiter = Arc::new(config.limiter().await.expect("Redis"));
    app::dispatch::engine::Engine::spawn(
        pool.clone(),
        app::dispatch::engine::EngineConfig {
            workers: config.dispatch_workers,
            public_url: config.public_url(),
            lease_seconds: 30,
            secrets: secrets.clone(),
            limiter: Arc::clone(&limiter),
        },
    );
    let state = AppState {
        pool: pool.clone(),
        leptos_options: herald::leptos_options(&config),
        secrets: secrets.clone(),
        code_writer: Arc::new(app::verify::stream::CodeWriter::spawn(
            pool.clone(),
            Arc::clone(&limiter),
        )),
        limiter,
        codes: Arc::clone(&codes),
        verify_keys: Default::default(),
    };
    let router = herald::router(state, &config);
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });

    let target = format!("http://{addr}/verify");
    let script_dir =
        std::env::temp_dir().join(format!("herald-bench-verify-{}", std::process::id()));
    std::fs::create_dir_all(&script_dir).expect("script dir");
    // Warm-up, not measured: the pool's connections, prepared statements, Redis scripts and
    // caches are made by the first requests of a fresh server (they were most of the first
    // run's slowest percent). Numbers 86138…, apart from the measured ones.
    let warm_up = script_dir.join("warm-up.lua");
    std::fs::write(&warm_up, lua_script("getSms", "86138", "")).expect("script");
    eprintln!("warm-up:");
    tokio::task::spawn_blocking({
        let (target, warm_up) = (target.clone(), warm_up.clone());
        move || wrk(&target, &warm_up, 3)
    })
    .await
    .expect("wrk");
    // The steady run before the one at full speed, which would leave it a backlog of codes to
    // send.
    let paced = std::thread::spawn({
        let target = target.clone();
        move || paced_get_sms(&target, PACED_RATE)
    })
    .join()
    .expect("paced run");
    let get_sms = script_dir.join("getsms.lua");
    std::fs::write(&get_sms, lua_script("getSms", "86139", "")).expect("script");
    let (get_rps, get_p99, get_total) = tokio::task::spawn_blocking({
        let (target, get_sms) = (target.clone(), get_sms.clone());
        move || wrk(&target, &get_sms, SECONDS)
    })
    .await
    .expect("wrk");
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM messages m JOIN tasks t ON t.id = m.task_id WHERE t.origin = 'verify'")
        .fetch_one(&pool)
        .await
        .expect("count");

    // Logins, each the first with the right code for its number, so each reads the code and
    // writes its use: the codes are kept beforehand (as getSms keeps them) for more numbers
    // than wrk gets through.
    keep_codes(&codes, &secrets, application).await;
    let login = script_dir.join("login.lua");
    std::fs::write(
        &login,
        lua_script("login", "86139", &format!(r#","code":"{LOGIN_CODE}""#)),
    )
    .expect("script");
    let (login_rps, login_p99, _) = tokio::task::spawn_blocking({
        let target = target.clone();
        move || wrk(&target, &login, SECONDS)
    })
    .await
    .expect("wrk");
    let redis_get_rps = redis_benchmark_get(&redis);
    let _ = std::fs::remove_dir_all(&script_dir);

    println!(
        "getSms: {get_rps:.0} req/s, p99 {get_p99:.1} ms ({get_total} requests, {recorded} codes recorded; goal >= 3,000 req/s, p99 < 20 ms)"
    );
    println!(
        "getSms at a steady {PACED_RATE} req/s: {:.0} req/s served, p99 {:.1} ms, {} not answered Ok",
        paced.served_per_second, paced.p99_ms, paced.not_ok
    );
    println!(
        "login: {login_rps:.0} req/s, p99 {login_p99:.1} ms; raw Redis GET: {redis_get_rps:.0} req/s ({:.0} %; goal >= 20 %)",
        login_rps * 100.0 / redis_get_rps
    );
    println!(
        "{}",
        serde_json::json!({
            "bench": "verify",
            "getsms_rps": get_rps.round(),
            "getsms_p99_ms": (get_p99 * 10.0).round() / 10.0,
            "getsms_steady_rps": paced.served_per_second.round(),
            "getsms_steady_p99_ms": (paced.p99_ms * 10.0).round() / 10.0,
            "login_rps": login_rps.round(),
            "login_p99_ms": (login_p99 * 10.0).round() / 10.0,
            "redis_get_rps": redis_get_rps.round(),
        })
    );
    std::process::exit(0);
}

struct Paced {
    served_per_second: f64,
    p99_ms: f64,
    not_ok: u64,
}

/// getSms at a steady `rate` for `SECONDS` from a thread of its own: each request leaves at its
/// planned moment whatever the earlier ones are doing, and is timed from that moment, so a
/// stall counts against every request it holds up (no coordinated omission). Numbers start
/// with 86137, apart from the ones wrk used.
fn paced_get_sms(target: &str, rate: u32) -> Paced {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let total = u64::from(rate * SECONDS);
        let interval = std::time::Duration::from_secs(1) / rate;
        let start = tokio::time::Instant::now();
        let mut requests = tokio::task::JoinSet::new();
        for n in 0..total {
            let planned = start + interval * n as u32;
            tokio::time::sleep_until(planned).await;
            let request = client
                .post(target)
                .header("X-Herald-Key", PUBLIC_KEY)
                .header("Content-Type", "application/json")
                .body(format!(r#"{{"method":"getSms","phone":"86137{n:08}"}}"#));
            requests.spawn(async move {
                let reply = match request.send().await {
                    Ok(response) => response.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                (planned.elapsed(), reply.contains(r#""code":"Ok""#))
            });
        }
        let mut latencies = Vec::with_capacity(total as usize);
        let mut not_ok = 0;
        while let Some(done) = requests.join_next().await {
            let (latency, ok) = done.expect("request task");
            latencies.push(latency.as_secs_f64() * 1000.0);
            not_ok += u64::from(!ok);
        }
        let elapsed = start.elapsed().as_secs_f64();
        latencies.sort_by(f64::total_cmp);
        Paced {
            served_per_second: total as f64 / elapsed,
            p99_ms: latencies[latencies.len() * 99 / 100],
            not_ok,
        }
    })
}

/// Keeps `LOGIN_CODE` for the numbers the login run walks, as getSms would have.
async fn keep_codes(
    codes: &Arc<app::verify::store::CodeStore>,
    secrets: &app::secrets::SecretBox,
    application: i64,
) {
    let now = chrono::Utc::now().timestamp();
    let per_slice = CODES_PER_THREAD / u64::from(CONNECTIONS);
    let tasks: Vec<_> = (0..u64::from(CONNECTIONS))
        .map(|slice| {
            let (codes, secrets) = (Arc::clone(codes), secrets.clone());
            tokio::spawn(async move {
                for thread in 0..2u64 {
                    for n in 1 + slice * per_slice..=(slice + 1) * per_slice {
                        let raw = format!("86139{:08}", thread * 10_000_000 + n);
                        let phone = app::numbers::PhoneNumber::parse(&raw).expect("number");
                        let digest = app::verify::service::code_digest(
                            &secrets,
                            application,
                            &phone,
                            LOGIN_CODE,
                        );
                        codes
                            .issue(application, phone.as_str(), &digest, now, 600)
                            .await
                            .expect("keep code");
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("keeping codes");
    }
}

/// A wrk script posting `method` for distinct numbers: thread `t`'s n-th request uses
/// `prefix` followed by t·10⁷ + n in 8 digits, so getSms and login with one prefix walk the same
/// numbers.
fn lua_script(method: &str, prefix: &str, extra: &str) -> String {
    format!(
        r#"local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  counter = 0
end
function request()
  counter = counter + 1
  local phone = string.format("{prefix}%08d", tid * 10000000 + counter)
  local body = '{{"method":"{method}","phone":"' .. phone .. '"{extra}}}'
  return wrk.format("POST", nil, {{["Content-Type"] = "application/json", ["X-Herald-Key"] = "{PUBLIC_KEY}"}}, body)
end
"#
    )
}

/// Runs wrk against `target` with `script`: (requests per second, p99 in ms, requests).
fn wrk(target: &str, script: &std::path::Path, seconds: u32) -> (f64, f64, u64) {
    let output = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{CONNECTIONS}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(target)
        .output()
        .expect("wrk (make bench-verify installs it)");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    // wrk's own report (the latency distribution) before the figures taken from it.
    eprintln!("{text}");
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("wrk printed no rate:\n{text}"));
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(|v| milliseconds(v.trim()))
        .unwrap_or_else(|| panic!("wrk printed no p99:\n{text}"));
    let total = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if let Some(errors) = text
        .lines()
        .find(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
    {
        eprintln!("wrk: {errors}");
    }
    (rps, p99, total)
}

/// wrk's latency text (`850.00us`, `12.34ms`, `1.20s`) in milliseconds.
fn milliseconds(text: &str) -> f64 {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => value / 1000.0,
        "s" => value * 1000.0,
        _ => value,
    }
}

/// redis-benchmark's GET rate against the Redis at `url` (same connections as wrk).
fn redis_benchmark_get(url: &str) -> f64 {
    let address = url.trim_start_matches("redis://");
    let address = address.split('/').next().unwrap_or(address);
    let (host, port) = address.rsplit_once(':').unwrap_or((address, "6379"));
    let output = Command::new("redis-benchmark")
        .args(["-h", host, "-p", port, "-t", "get", "-n", "200000"])
        .args(["-c", &CONNECTIONS.to_string(), "-q"])
        .output()
        .expect("redis-benchmark");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    // "GET: 123456.79 requests per second, p50=0.135 msec"; progress lines end in '\r'.
    text.rsplit(['\r', '\n'])
        .find_map(|part| part.trim().strip_prefix("GET:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("redis-benchmark printed no GET rate:\n{text}"))
}

/// A fresh database: an application with an approved verification template and signature,
/// plenty of units, the default frequency limits (counted in Redis for every code; distinct
/// numbers stay under them), no anti-pumping limits (every request comes from one address and
/// the numbers share prefixes), and a zero-latency simulator without receipts.
async fn prepare(pool: &PgPool) -> i64 {
    sqlx::query(
        "TRUNCATE messages, dispatch_chunks, pending_receipts, task_reservations, tasks, recipients,
                  recipient_uploads, templates, signatures, documents, applications, sms_packages,
                  verify_settings, verify_abuse, status_outbox, audit_log, users CASCADE",
    )
    .execute(pool)
    .await
    .expect("reset");
    fixtures::instant_simulator(pool).await;
    let user: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, display_name, password_hash, roles)
         VALUES ('bench@example.com', 'Bench', 'x', ARRAY['operator']) RETURNING id",
    )
    .fetch_one(pool)
    .await
    .expect("user");
    let application: i64 = sqlx::query_scalar(
        "INSERT INTO applications (sdk_app_id, name, created_by)
         VALUES (1400000001, 'Bench', $1) RETURNING id",
    )
    .bind(user)
    .fetch_one(pool)
    .await
    .expect("application");
    let signature = fixtures::approved_signature(pool, user).await;
    let template: i64 = sqlx::query_scalar(
        "INSERT INTO templates (name, sms_type, content, status, submitted_by)
         VALUES ('Login', 3, 'Your login code is {1}, valid for {2} minutes.', 'approved', $1)
         RETURNING id",
    )
    .bind(user)
    .fetch_one(pool)
    .await
    .expect("template");
    sqlx::query("INSERT INTO sms_packages (units, package_type) VALUES (100000000, 1)")
        .execute(pool)
        .await
        .expect("package");
    sqlx::query(
        "INSERT INTO verify_settings (application_id, public_key, template_id, signature_id,
                                      per_ip_hourly, per_prefix_hourly)
         VALUES ($1, $2, $3, $4, 0, 0)",
    )
    .bind(application)
    .bind(PUBLIC_KEY)
    .bind(template)
    .bind(signature)
    .execute(pool)
    .await
    .expect("verify settings");
    application
}
