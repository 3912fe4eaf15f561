//! Crash tests with real processes: `herald serve` is killed with SIGKILL at random moments while
//! it dispatches a task to a `herald simulator` process (whose ledger survives the kills), then
//! restarted; in the end every message must have reached the simulator exactly once. Also three
//! server processes sharing one task, and Postgres crashing and restarting under a sending
//! server.
//!
//! Small by default (it runs in `make test`); `make chaos` runs the full size:
//! `HERALD_CHAOS_MESSAGES=100000 HERALD_CHAOS_KILLS=5`. Each run prints a JSON summary line.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use crate::common::catalogue::{catalogue, Catalogue};
use crate::common::database_url;
use crate::common::process::{free_port, server, wait_until_up, Process, HERALD};
use crate::common::verification::{code_sent_to, set_up_verification};
use app::accounts::model::{CurrentUser, Role, Roles};
use app::campaigns::import::import;
use app::campaigns::repo::create_upload;
use app::campaigns::schedule::SendTime;
use app::campaigns::service::{self, NewTask};
use app::carriers::simulator::LedgerSummary;
use rand::Rng;
use sqlx::PgPool;

const SECRET: &str = "chaos carrier secret";
const TOKEN: &str = "chaos-receipt-token";

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn simulator(port: u16, app_port: u16, carrier: i64) -> Process {
    Process(
        Command::new(HERALD)
            .args(["simulator", "--listen", &format!("127.0.0.1:{port}")])
            .args([
                "--receipts-url",
                &format!("http://127.0.0.1:{app_port}/receipts/{carrier}/{TOKEN}"),
            ])
            .args([
                "--latency-ms",
                "2",
                "--delivery-rate",
                "0.9",
                "--seed",
                "11",
            ])
            .env("HERALD_SIMULATOR_SECRET", SECRET)
            .env("HERALD_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the simulator"),
    )
}

async fn ledger(port: u16) -> LedgerSummary {
    reqwest::get(format!("http://127.0.0.1:{port}/ledger"))
        .await
        .expect("ledger")
        .json()
        .await
        .expect("ledger JSON")
}

/// What `task` made: the task, its carrier, and the shop behind it.
struct Shop {
    task: i64,
    carrier: i64,
    catalogue: Catalogue,
    marketer: i64,
}

/// A marketer's task of `messages` distinct recipients, sending at once, its carrier the
/// simulator process on `simulator_port`.
async fn task(pool: &PgPool, messages: u64, simulator_port: u16) -> Shop {
    herald::migrate(pool).await.unwrap();
    let user: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, display_name, password_hash, roles)
         VALUES ('chaos@example.com', 'Chaos', 'x', ARRAY['marketer']) RETURNING id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO organisation (name, account_type, verified) VALUES ('Acme', 'organisation', true)")
        .execute(pool)
        .await
        .unwrap();
    let c = catalogue(pool, user).await;
    sqlx::query("INSERT INTO sms_packages (units, package_type) VALUES ($1, 1)")
        .bind(messages as i64 * 2)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE carriers SET is_default = false")
        .execute(pool)
        .await
        .unwrap();
    let carrier: i64 = sqlx::query_scalar(
        "INSERT INTO carriers (name, kind, settings, rate_limit, concurrency, receipt_token, is_default)
         VALUES ('Simulator process', 'http', $1, 1000000, 16, $2, true) RETURNING id",
    )
    .bind(serde_json::json!({
        "endpoint": format!("http://127.0.0.1:{simulator_port}/send"),
        "secret": common::secrets().seal(SECRET),
    }))
    .bind(TOKEN)
    .fetch_one(pool)
    .await
    .unwrap();
    let mut csv = String::from("mobile,name,shop\n");
    for i in 0..messages {
        // Each recipient its own content: one carrier call each, so a kill lands mid-task.
        csv.push_str(&format!("139{:08},n{},Acme\n", i, i));
    }
    let path = std::env::temp_dir().join(format!("herald-chaos-{}", uuid::Uuid::new_v4()));
    std::fs::write(&path, &csv).unwrap();
    let source = service::source(
        pool,
        &c.application.to_string(),
        &c.signature.to_string(),
        &c.notification.to_string(),
    )
    .await
    .unwrap();
    let upload = create_upload(pool, &source, "chaos.csv", csv.len() as i64, user)
        .await
        .unwrap();
    import(pool, upload, path.clone(), source.rules())
        .await
        .unwrap();
    let _ = std::fs::remove_file(path);
    let marketer = CurrentUser {
        id: user,
        email: "chaos@example.com".into(),
        display_name: "Chaos".into(),
        roles: Roles::new(vec![Role::Marketer]).unwrap(),
    };
    let task = service::start_task(
        pool,
        &marketer,
        "127.0.0.1",
        NewTask {
            upload_id: upload,
            name: "Chaos".into(),
            when: SendTime {
                at: chrono::Utc::now(),
                zone: chrono_tz::Asia::Shanghai,
                now: true,
            },
            carrier_id: None,
        },
    )
    .await
    .unwrap();
    Shop {
        task,
        carrier,
        catalogue: c,
        marketer: user,
    }
}

/// (status, sent, delivered, failed) of the task.
async fn progress(pool: &PgPool, task: i64) -> (String, i64, i64, i64) {
    let (status, sent, delivered, failed): (String, i32, i32, i32) =
        sqlx::query_as("SELECT status, sent, delivered, failed FROM tasks WHERE id = $1")
            .bind(task)
            .fetch_one(pool)
            .await
            .unwrap();
    (status, sent.into(), delivered.into(), failed.into())
}

async fn wait_settled(pool: &PgPool, task: i64, messages: i64, limit: Duration) {
    let started = Instant::now();
    loop {
        let (status, _, delivered, failed) = progress(pool, task).await;
        if status == "completed" && delivered + failed == messages {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "not settled after {limit:?}: {:?}",
            progress(pool, task).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every message ended, and the simulator accepted each exactly once.
async fn check(
    pool: &PgPool,
    task: i64,
    messages: u64,
    simulator_port: u16,
    kills: u64,
    label: &str,
) {
    let ledger = ledger(simulator_port).await;
    let unfinished: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages WHERE task_id = $1 AND state IN (0, 1, 2)",
    )
    .bind(task)
    .fetch_one(pool)
    .await
    .unwrap();
    let lost = messages.saturating_sub(ledger.accepted);
    // On a line of its own, in the order the summary line uses.
    println!(
        "\n{{\"chaos\":\"{label}\",\"kills\":{kills},\"messages\":{messages},\"accepted_once\":{},\"duplicates\":{},\"lost\":{lost},\"resubmitted_same_key\":{}}}",
        ledger.accepted - ledger.duplicates,
        ledger.duplicates,
        ledger.resubmitted,
    );
    assert_eq!(ledger.duplicates, 0, "no handset got a message twice");
    assert_eq!(
        ledger.accepted, messages,
        "every message reached the carrier"
    );
    assert_eq!(unfinished, 0, "every message ended delivered or failed");
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn killing_the_server_mid_task_loses_and_duplicates_nothing(pool: PgPool) {
    let messages = env_number("HERALD_CHAOS_MESSAGES", 3000);
    let kills = env_number("HERALD_CHAOS_KILLS", 2);
    let (app_port, sim_port) = (free_port(), free_port());
    let Shop { task, carrier, .. } = task(&pool, messages, sim_port).await;
    let _simulator = simulator(sim_port, app_port, carrier);
    wait_until_up(sim_port).await;
    let url = database_url(&pool).await;
    let mut interrupted = 0;
    for _ in 0..kills {
        let running = server(&url, app_port);
        wait_until_up(app_port).await;
        let wait = rand::thread_rng().gen_range(300..1200);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        drop(running); // SIGKILL
        let accepted = ledger(sim_port).await.accepted;
        if accepted > 0 && accepted < messages {
            interrupted += 1;
        }
    }
    assert!(
        interrupted > 0 || kills == 0,
        "no kill landed while the task was sending"
    );
    let _last = server(&url, app_port);
    wait_settled(
        &pool,
        task,
        messages as i64,
        Duration::from_secs(60 + messages / 500),
    )
    .await;
    check(&pool, task, messages, sim_port, kills, "dispatch").await;
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn three_server_processes_share_a_task_without_duplicates(pool: PgPool) {
    let messages = env_number("HERALD_CHAOS_MESSAGES", 3000);
    let (app_port, sim_port) = (free_port(), free_port());
    let Shop { task, carrier, .. } = task(&pool, messages, sim_port).await;
    let _simulator = simulator(sim_port, app_port, carrier);
    wait_until_up(sim_port).await;
    let url = database_url(&pool).await;
    let _servers = [
        server(&url, app_port),
        server(&url, free_port()),
        server(&url, free_port()),
    ];
    wait_settled(
        &pool,
        task,
        messages as i64,
        Duration::from_secs(60 + messages / 500),
    )
    .await;
    check(&pool, task, messages, sim_port, 0, "three-processes").await;
    let resubmitted = ledger(sim_port).await.resubmitted;
    assert_eq!(resubmitted, 0, "no process took over another's live chunk");
}

/// Receipts often reach Herald before the carrier's answer does (the carrier sends its receipt,
/// then answers): an outcome is still never recorded before its submission, so no delivery
/// latency is negative.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn no_outcome_precedes_its_submission(pool: PgPool) {
    let messages = 10_000;
    let (app_port, sim_port) = (free_port(), free_port());
    let Shop { task, carrier, .. } = task(&pool, messages, sim_port).await;
    let _simulator = simulator(sim_port, app_port, carrier);
    wait_until_up(sim_port).await;
    let _server = server(&database_url(&pool).await, app_port);
    wait_settled(&pool, task, messages as i64, Duration::from_secs(180)).await;
    let (with_receipt, before_submission): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE submitted_at IS NOT NULL AND done_at IS NOT NULL),
                count(*) FILTER (WHERE done_at < submitted_at)
           FROM messages WHERE task_id = $1",
    )
    .bind(task)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        with_receipt > messages as i64 / 2,
        "most messages have a receipt: {with_receipt}"
    );
    assert_eq!(
        before_submission, 0,
        "outcomes recorded before their submission"
    );
    let latency: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(receipts), 0)::bigint FROM task_latency WHERE task_id = $1",
    )
    .bind(task)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        latency, with_receipt,
        "every receipt has its latency bucket"
    );
}

/// Two servers behind one (imagined) balancer: both engines send one campaign, and users ask
/// for and check verification codes at either server, the number's limits (a code per 2 s and
/// two a day, here) counted once across both through Redis.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn two_server_processes_share_a_campaign_and_verification_codes(pool: PgPool) {
    let messages = 1000;
    let (first, second, sim_port) = (free_port(), free_port(), free_port());
    let shop = task(&pool, messages, sim_port).await;
    let settings = set_up_verification(&pool, &shop.catalogue, shop.marketer).await;
    sqlx::query(
        "UPDATE applications SET frequency_rules = '{\"same_content_seconds\": 2, \"per_day\": 2}'
          WHERE id = $1",
    )
    .bind(shop.catalogue.application)
    .execute(&pool)
    .await
    .unwrap();
    let _simulator = simulator(sim_port, first, shop.carrier);
    wait_until_up(sim_port).await;
    let url = database_url(&pool).await;
    let _servers = [server(&url, first), server(&url, second)];
    wait_until_up(first).await;
    wait_until_up(second).await;

    let client = reqwest::Client::new();
    let verify = async |port: u16, body: serde_json::Value| -> String {
        let reply: serde_json::Value = client
            .post(format!("http://127.0.0.1:{port}/verify"))
            .header("X-Herald-Key", &settings.public_key)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        reply["code"].as_str().unwrap().to_owned()
    };
    let past_the_resend_limit = || tokio::time::sleep(Duration::from_millis(2100));
    let users = 3;
    for user in 0..users {
        let phone = format!("+86137{user:08}");
        let get_sms = serde_json::json!({"method": "getSms", "phone": phone});
        assert_eq!(verify(first, get_sms.clone()).await, "Ok");
        assert_eq!(
            verify(second, get_sms.clone()).await,
            "LimitExceeded.PhoneNumberThirtySecondLimit",
            "the other server knows a code just went out"
        );
        let code = code_sent_to(&pool, &phone).await;
        let login = serde_json::json!({"method": "login", "phone": phone, "code": code});
        assert_eq!(
            verify(second, login.clone()).await,
            "Ok",
            "a code from the other server"
        );
        assert_eq!(
            verify(first, login).await,
            "CodeHasValid",
            "used once, at either"
        );
        past_the_resend_limit().await;
        assert_eq!(verify(second, get_sms.clone()).await, "Ok");
        let code = code_sent_to(&pool, &phone).await;
        let login = serde_json::json!({"method": "login", "phone": phone, "code": code});
        assert_eq!(verify(first, login).await, "Ok");
        past_the_resend_limit().await;
        assert_eq!(
            verify(first, get_sms.clone()).await,
            "LimitExceeded.PhoneNumberDailyLimit",
            "two codes a day, counted across both servers"
        );
    }

    wait_settled(&pool, shop.task, messages as i64, Duration::from_secs(60)).await;
    let codes = 2 * users;
    let deadline = Instant::now() + Duration::from_secs(30);
    while ledger(sim_port).await.accepted < messages + codes && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ledger = ledger(sim_port).await;
    assert_eq!(
        ledger.accepted,
        messages + codes,
        "every message and code sent"
    );
    assert_eq!(ledger.duplicates, 0, "none twice");
    assert_eq!(
        ledger.resubmitted, 0,
        "no server took over the other's live work"
    );
}

/// A PostgreSQL server of this test's own (a fresh cluster in a temporary directory, on a free
/// port), so restarting it disturbs no other test. Stopped and removed when dropped.
struct OwnPostgres {
    bin: std::path::PathBuf,
    dir: String,
    port: u16,
}

impl OwnPostgres {
    /// Runs a PostgreSQL tool as the `postgres` user when we are root (the server refuses root).
    fn tool(bin: &std::path::Path, name: &str) -> Command {
        let program = bin.join(name);
        if running_as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn start() -> OwnPostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries (scripts/database.sh installs them)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .max()
            .expect("initdb");
        let dir = String::from_utf8(
            Self::tool(std::path::Path::new("/usr/bin"), "mktemp")
                .args(["-d", "/tmp/herald-pg-XXXXXX"])
                .output()
                .expect("mktemp")
                .stdout,
        )
        .unwrap()
        .trim()
        .to_owned();
        let port = free_port();
        let ok = |what: &str, status: std::process::ExitStatus| {
            assert!(status.success(), "{what} failed: {status}");
        };
        ok(
            "initdb",
            Self::tool(&bin, "initdb")
                .args(["-D", &dir, "-A", "trust", "-U", "postgres", "--no-sync"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap(),
        );
        let pg = OwnPostgres { bin, dir, port };
        pg.ctl(&["start"]);
        pg
    }

    fn ctl(&self, action: &[&str]) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port, self.dir
        );
        let status = Self::tool(&self.bin, "pg_ctl")
            .args(["-D", &self.dir, "-w", "-l", &format!("{}/log", self.dir)])
            .args(["-o", &options])
            .args(action)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl {action:?} failed: {status}");
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = Self::tool(&self.bin, "pg_ctl")
            .args(["-D", &self.dir, "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn postgres_crashing_mid_task_is_survived_and_the_task_finishes() {
    let messages = env_number("HERALD_CHAOS_MESSAGES", 3000);
    let pg = OwnPostgres::start();
    let admin = sqlx::PgPool::connect(&pg.url("postgres")).await.unwrap();
    sqlx::query("CREATE DATABASE herald")
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&pg.url("herald"))
        .await
        .unwrap();
    let (app_port, sim_port) = (free_port(), free_port());
    let Shop { task, carrier, .. } = task(&pool, messages, sim_port).await;
    let _simulator = simulator(sim_port, app_port, carrier);
    wait_until_up(sim_port).await;
    let mut running = server(&pg.url("herald"), app_port);
    wait_until_up(app_port).await;
    // Crash Postgres (no clean shutdown: every connection dies) once sending is under way.
    let started = Instant::now();
    while ledger(sim_port).await.accepted < messages / 5 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "sending never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pg.ctl(&["-m", "immediate", "restart"]);
    let at_restart = ledger(sim_port).await.accepted;
    assert!(
        at_restart < messages,
        "the restart came after the task had been sent"
    );
    wait_settled(
        &pool,
        task,
        messages as i64,
        Duration::from_secs(60 + messages / 500),
    )
    .await;
    assert!(
        running.0.try_wait().unwrap().is_none(),
        "the server kept running through the database's restart"
    );
    check(&pool, task, messages, sim_port, 0, "postgres-restart").await;
}
