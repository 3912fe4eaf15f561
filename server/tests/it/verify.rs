//! The verification-code service: the seed's login flow over HTTP (codes through the engine to
//! the simulator), its error codes, expiry with a moved clock on both code stores, wrong
//! attempts, concurrent getSms and the anti-pumping limits.

use crate::common;
use crate::common::sending::{engine, wait_for, world, World, MARKETER_EMAIL, MARKETER_PASSWORD};
use crate::common::verification::{code_sent_to, set_up_verification};
use app::verify::model::VerifySettings;
use app::verify::service::{handle, Verifier};
use app::verify::store::CodeStore;
use serde_json::{json, Value};
use sqlx::PgPool;

/// A world with an approved verification template and the application's settings using it.
async fn verify_world(pool: PgPool) -> (World, VerifySettings) {
    let w = world(
        pool,
        app::carriers::model::SimulatorSettings {
            delivery_rate: 1.0,
            ..Default::default()
        },
    )
    .await;
    let settings = set_up_verification(&w.app.pool, &w.catalogue, w.marketer.id).await;
    (w, settings)
}

async fn post(w: &World, path: &str, key: Option<&str>, body: Value) -> (u16, Value) {
    post_to(&w.app, path, key, body).await
}

async fn post_to(
    app: &common::TestApp,
    path: &str,
    key: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .json(&body);
    if let Some(key) = key {
        request = request.header("X-Herald-Key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn verify(w: &World, key: &str, body: Value) -> String {
    let (status, reply) = post(w, "/verify", Some(key), body).await;
    assert_eq!(status, 200, "{reply}");
    reply["code"].as_str().unwrap().to_owned()
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn the_seeds_login_flow_works_with_its_error_codes(pool: PgPool) {
    let (w, settings) = verify_world(pool).await;
    let key = settings.public_key.as_str();
    let _engine = engine(&w, 1);

    let get = json!({"method": "getSms", "phone": "8613800000001"});
    assert_eq!(verify(&w, key, get.clone()).await, "Ok");
    let code = code_sent_to(&w.app.pool, "+8613800000001").await;
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|b| b.is_ascii_digit()));
    let text: String = sqlx::query_scalar(
        "SELECT t.template_text FROM tasks t WHERE t.origin = 'verify' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    assert!(text.contains("{2} minutes"));
    let params: Vec<String> = sqlx::query_scalar(
        "SELECT params FROM messages WHERE phone = '+8613800000001' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    assert_eq!(params[1], "5", "{{2}} is the validity in minutes");
    wait_for("the code to be delivered", async || {
        w.simulator.ledger().accepted == 1
    })
    .await;

    let wrong = if code == "000000" { "000001" } else { "000000" };
    let login = |code: &str| json!({"method": "login", "phone": "8613800000001", "code": code});
    assert_eq!(verify(&w, key, login(wrong)).await, "CodeIsError");
    assert_eq!(verify(&w, key, login(&code)).await, "Ok");
    assert_eq!(
        verify(&w, key, login(&code)).await,
        "CodeHasValid",
        "single use"
    );

    // A second code within 30 s is refused and the number's pending code stays valid.
    let other = json!({"method": "getSms", "phone": "8613800000002"});
    assert_eq!(verify(&w, key, other.clone()).await, "Ok");
    let first = code_sent_to(&w.app.pool, "+8613800000002").await;
    assert_eq!(
        verify(&w, key, other).await,
        "LimitExceeded.PhoneNumberThirtySecondLimit"
    );
    let (status, reply) = post(
        &w,
        &format!("/verify/{key}"),
        None,
        json!({"method": "login", "phone": "+86 138 0000 0002", "code": first}),
    )
    .await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (200, Some("Ok")),
        "key in the path"
    );

    for (body, code) in [
        (
            json!({"method": "login", "phone": "8613800000003"}),
            "MissingCode",
        ),
        (json!({"method": "login", "code": "123456"}), "InValidParam"),
        (
            json!({"method": "getSms", "phone": "12345"}),
            "InValidParam",
        ),
        (
            json!({"method": "sing", "phone": "8613800000001"}),
            "InValidParam",
        ),
        (
            json!({"method": "login", "phone": "8613800000009", "code": "123456"}),
            "CodeIsError",
        ),
    ] {
        assert_eq!(verify(&w, key, body.clone()).await, code, "{body}");
    }
    let (status, reply) = post(&w, "/verify", Some("pk_unknown"), get).await;
    assert_eq!(status, 401);
    assert_eq!(reply["code"], "AuthFailure.InvalidPublicKey");
}

/// Codes requested one by one while the engine is busy (here: not yet running) go out together:
/// one claim takes every waiting code of the application's stream, and the stream counts each
/// code once (recipients, sends, units, statistics). It takes codes all day and completes once
/// its day is over.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn waiting_codes_go_out_in_one_batch_and_count_once(pool: PgPool) {
    let (w, settings) = verify_world(pool).await;
    let key = settings.public_key.as_str();
    let pool = &w.app.pool;
    // The numbers share a prefix and one address: the anti-pumping limits are off.
    sqlx::query("UPDATE verify_settings SET per_ip_hourly = 0, per_prefix_hourly = 0")
        .execute(pool)
        .await
        .unwrap();
    w.app.verify_keys.forget_all();
    sqlx::query("INSERT INTO opt_outs (phone, source) VALUES ('+8613900000029', 'console')")
        .execute(pool)
        .await
        .unwrap();
    let used_before: i64 = sqlx::query_scalar("SELECT sum(used)::bigint FROM sms_packages")
        .fetch_one(pool)
        .await
        .unwrap();
    for i in 0..30 {
        let expected = if i == 29 {
            "FailedOperation.PhoneNumberInBlacklist"
        } else {
            "Ok"
        };
        let get = json!({"method": "getSms", "phone": format!("86139000000{i:02}")});
        assert_eq!(verify(&w, key, get).await, expected);
    }
    let streams: Vec<i64> = sqlx::query_scalar("SELECT id FROM tasks WHERE stream_day IS NOT NULL")
        .fetch_all(pool)
        .await
        .unwrap();
    let [stream] = streams[..] else {
        panic!("one stream for the application's day: {streams:?}")
    };

    let chunk = app::dispatch::queue::claim(pool, uuid::Uuid::new_v4(), 30, &[])
        .await
        .unwrap()
        .expect("the waiting codes");
    assert_eq!((chunk.task_id, chunk.stream), (stream, true));
    assert_eq!(chunk.ranges.len(), 29, "every sendable code in one claim");
    // Let go as a worker that stopped before taking them would (its lease run out).
    sqlx::query("UPDATE dispatch_chunks SET lease_until = now() - interval '1 second'")
        .execute(pool)
        .await
        .unwrap();
    let _engine = engine(&w, 2);
    wait_for("the codes to reach the carrier", async || {
        common::sending::counters(pool, stream).await.sent == 29
    })
    .await;
    assert_eq!(w.simulator.ledger().accepted, 29);
    let c = common::sending::counters(pool, stream).await;
    assert_eq!(
        (
            c.status.as_str(),
            c.recipients,
            c.sent,
            c.failed,
            c.units_used
        ),
        ("sending", 30, 29, 1, 29),
        "counted once each; the stream stays open for the day's next codes"
    );
    let used_after: i64 = sqlx::query_scalar("SELECT sum(used)::bigint FROM sms_packages")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(
        used_after - used_before,
        29,
        "units charged as the codes went out"
    );
    let (requests, submitted): (i64, i64) =
        sqlx::query_as("SELECT sum(requests)::bigint, sum(submitted)::bigint FROM stats_hourly")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!((requests, submitted), (30, 29));
    let by_operator: i64 =
        sqlx::query_scalar("SELECT sum(recipients)::bigint FROM task_operators WHERE task_id = $1")
            .bind(stream)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(by_operator, 30);
    assert!(!app::dispatch::lifecycle::complete_if_done(pool, stream)
        .await
        .unwrap());

    // Its day over, the stream completes and the next code opens today's.
    sqlx::query("UPDATE tasks SET stream_day = stream_day - 2 WHERE id = $1")
        .bind(stream)
        .execute(pool)
        .await
        .unwrap();
    assert!(app::dispatch::lifecycle::sending_without_work(pool)
        .await
        .unwrap()
        .contains(&stream));
    assert!(app::dispatch::lifecycle::complete_if_done(pool, stream)
        .await
        .unwrap());
    w.app.verify_keys.forget_all();
    let get = json!({"method": "getSms", "phone": "8613900000100"});
    assert_eq!(verify(&w, key, get).await, "Ok");
    let today: i64 = sqlx::query_scalar(
        "SELECT id FROM tasks WHERE stream_day IS NOT NULL AND status = 'sending'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_ne!(today, stream);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn five_wrong_codes_void_the_code(pool: PgPool) {
    let (w, settings) = verify_world(pool).await;
    let key = settings.public_key.as_str();
    assert_eq!(
        verify(
            &w,
            key,
            json!({"method": "getSms", "phone": "8613800000001"})
        )
        .await,
        "Ok"
    );
    let code = code_sent_to(&w.app.pool, "+8613800000001").await;
    let wrong = if code == "999999" { "999998" } else { "999999" };
    let login = |code: &str| json!({"method": "login", "phone": "8613800000001", "code": code});
    for _ in 0..5 {
        assert_eq!(verify(&w, key, login(wrong)).await, "CodeIsError");
    }
    assert_eq!(verify(&w, key, login(&code)).await, "CodeHasValid");
}

/// The same story on both stores: a code is valid until its last second, then expired.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn codes_expire_at_their_second_on_both_stores(pool: PgPool) {
    let (w, settings) = verify_world(pool).await;
    let redis = CodeStore::redis(
        &common::redis_url(),
        &format!("herald-test:{}:", uuid::Uuid::new_v4()),
    )
    .await
    .unwrap();
    for (store, phone) in [
        (redis, "8613800000001"),
        (CodeStore::in_memory(), "8613800000002"),
    ] {
        let secrets = common::secrets();
        let keys = app::verify::cache::KeyCache::default();
        let writer = app::verify::stream::CodeWriter::spawn(
            w.app.pool.clone(),
            std::sync::Arc::clone(&w.app.limiter),
        );
        let at = |now: i64| Verifier {
            pool: &w.app.pool,
            codes: &store,
            keys: &keys,
            writer: &writer,
            secrets: &secrets,
            ip: "192.0.2.1",
            now,
        };
        let t0 = 1_800_000_000;
        let body = |v: Value| v.to_string().into_bytes();
        let reply = handle(
            &at(t0),
            &settings.public_key,
            &body(json!({"method": "getSms", "phone": phone})),
        )
        .await
        .unwrap();
        assert_eq!(reply.code, "Ok", "{store:?}");
        let code = code_sent_to(&w.app.pool, &format!("+{phone}")).await;
        let login = body(json!({"method": "login", "phone": phone, "code": code}));
        let validity = i64::from(settings.validity_minutes) * 60;
        let late = handle(&at(t0 + validity), &settings.public_key, &login)
            .await
            .unwrap();
        assert_eq!(late.code, "CodeHasExpired", "{store:?}");
        let in_time = handle(&at(t0 + validity - 1), &settings.public_key, &login)
            .await
            .unwrap();
        assert_eq!(
            in_time.code, "Ok",
            "{store:?}: the last second still counts"
        );
    }
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn concurrent_get_sms_and_the_anti_pumping_limits(pool: PgPool) {
    let (w, mut settings) = verify_world(pool).await;
    settings.per_ip_hourly = 20;
    settings.per_prefix_hourly = 0;
    app::verify::repo::save(&w.app.pool, &settings)
        .await
        .unwrap();
    w.app.verify_keys.forget_all();
    let key = settings.public_key.clone();

    let requests = (0..20).map(|i| {
        let (w, key) = (&w, key.clone());
        async move {
            verify(
                w,
                &key,
                json!({"method": "getSms", "phone": format!("86139{i:08}")}),
            )
            .await
        }
    });
    let codes = futures_util::future::join_all(requests).await;
    assert!(codes.iter().all(|c| c == "Ok"), "{codes:?}");
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM messages m JOIN tasks t ON t.id = m.task_id WHERE t.origin = 'verify'")
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
    assert_eq!(recorded, 20);
    for i in [0, 19] {
        let phone = format!("86139{i:08}");
        let code = code_sent_to(&w.app.pool, &format!("+{phone}")).await;
        let login = json!({"method": "login", "phone": phone, "code": code});
        assert_eq!(
            verify(&w, &key, login).await,
            "Ok",
            "each number has its own code"
        );
    }

    // The 21st request from one address this hour is refused, counted for the dashboard.
    assert_eq!(
        verify(
            &w,
            &key,
            json!({"method": "getSms", "phone": "8613700000000"})
        )
        .await,
        "LimitExceeded.ClientIpHourlyLimit"
    );
    // Numbers in one prefix: two an hour here.
    settings.per_ip_hourly = 0;
    settings.per_prefix_hourly = 2;
    app::verify::repo::save(&w.app.pool, &settings)
        .await
        .unwrap();
    w.app.verify_keys.forget_all();
    for (phone, code) in [
        ("8615000000001", "Ok"),
        ("8615000000002", "Ok"),
        ("8615000000003", "LimitExceeded.PhonePrefixHourlyLimit"),
        ("8615100000001", "Ok"),
    ] {
        let body = json!({"method": "getSms", "phone": phone});
        assert_eq!(verify(&w, &key, body).await, code, "{phone}");
    }
    let abuse = app::verify::repo::abuse_today(&w.app.pool).await.unwrap();
    assert_eq!((abuse.by_ip, abuse.by_prefix), (1, 1));
}

/// Organisation admins change an application's limits in the console; the next code follows.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn an_admin_changes_the_limits_and_the_next_code_follows_them(pool: PgPool) {
    let (w, settings) = verify_world(pool).await;
    let (admin, _, _) = w
        .app
        .log_in(common::ADMIN_EMAIL, common::ADMIN_PASSWORD)
        .await;
    let application = w.catalogue.application.to_string();
    let save = |same: &'static str, hour: &'static str, day: &'static str| {
        let application = application.clone();
        let (app, admin) = (w.app.clone(), admin.clone());
        async move {
            app.call(
                &admin,
                "save_frequency_rules",
                &[
                    ("application_id", application.as_str()),
                    ("same_content_seconds", same),
                    ("per_hour", hour),
                    ("per_day", day),
                    ("app_per_day", "0"),
                ],
            )
            .await
        }
    };
    let (status, body) = save("30", "5", "2").await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("per_hour"), "{body}");
    let (status, body) = save("0", "0", "1").await;
    assert!(status.is_success(), "{status} {body}");

    let (marketer, _, _) = w.app.log_in(MARKETER_EMAIL, MARKETER_PASSWORD).await;
    let (status, _) = w
        .app
        .call(
            &marketer,
            "save_frequency_rules",
            &[
                ("application_id", application.as_str()),
                ("same_content_seconds", "0"),
                ("per_hour", "0"),
                ("per_day", "0"),
                ("app_per_day", "0"),
            ],
        )
        .await;
    assert_eq!(status, 403, "only admins change limits");

    let key = settings.public_key.as_str();
    let get = json!({"method": "getSms", "phone": "8613800000001"});
    assert_eq!(verify(&w, key, get.clone()).await, "Ok");
    assert_eq!(
        verify(&w, key, get).await,
        "LimitExceeded.PhoneNumberDailyLimit",
        "one a day now; the 30-second rule is off"
    );
    // The code admitted when it was requested goes out: the engine does not count it again.
    let _engine = engine(&w, 1);
    wait_for("the admitted code to be delivered", async || {
        let states: Vec<i16> = sqlx::query_scalar(
            "SELECT state FROM messages WHERE phone = '+8613800000001' ORDER BY id",
        )
        .fetch_all(&w.app.pool)
        .await
        .unwrap();
        states == [3, 5]
    })
    .await;

    sqlx::query("UPDATE organisation SET account_type = 'individual'")
        .execute(&w.app.pool)
        .await
        .unwrap();
    let (status, body) = save("30", "0", "10").await;
    assert_eq!(
        status, 409,
        "individual accounts keep Tencent's defaults: {body}"
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn twenty_concurrent_get_sms_for_one_number_send_one_code(pool: PgPool) {
    let (w, settings) = verify_world(pool).await;
    let key = settings.public_key.clone();
    let requests = (0..20).map(|_| {
        let (w, key) = (&w, key.clone());
        async move {
            verify(
                w,
                &key,
                json!({"method": "getSms", "phone": "8613800000001"}),
            )
            .await
        }
    });
    let codes = futures_util::future::join_all(requests).await;
    assert_eq!(codes.iter().filter(|c| *c == "Ok").count(), 1, "{codes:?}");
    assert!(
        codes
            .iter()
            .filter(|c| *c != "Ok")
            .all(|c| c == "LimitExceeded.PhoneNumberThirtySecondLimit"),
        "{codes:?}"
    );
    let sendable: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages m JOIN tasks t ON t.id = m.task_id
          WHERE t.origin = 'verify' AND m.state <> 5",
    )
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    assert_eq!(sendable, 1, "exactly one code goes to the carrier");
    let sealed = sqlx::query_scalar::<_, String>(
        "SELECT m.params[1] FROM messages m WHERE m.state <> 5 AND m.phone = '+8613800000001'",
    )
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    let code = common::secrets().open(&sealed).unwrap();
    let login = json!({"method": "login", "phone": "8613800000001", "code": code});
    assert_eq!(
        verify(&w, &key, login).await,
        "Ok",
        "the code sent is the code kept"
    );
}

/// A Redis of the test's own, on a free port, that the test can stop and start.
struct OwnRedis {
    port: u16,
    process: std::process::Child,
}

impl OwnRedis {
    fn start(port: u16) -> OwnRedis {
        let redis = OwnRedis {
            port,
            process: std::process::Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("redis-server (make test installs Redis)"),
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return redis;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("redis-server did not start on port {port}");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn stop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_redis_restart_gives_clear_errors_then_recovers(pool: PgPool) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut redis = OwnRedis::start(port);
    let app = common::spawn_with_redis(pool, &redis.url()).await;
    app.set_up().await;
    let user = app.user_id(common::ADMIN_EMAIL).await;
    let catalogue = common::catalogue::catalogue(&app.pool, user).await;
    sqlx::query("INSERT INTO sms_packages (units, package_type) VALUES (100, 1)")
        .execute(&app.pool)
        .await
        .unwrap();
    let settings = set_up_verification(&app.pool, &catalogue, user).await;
    let key = settings.public_key.as_str();
    let get = |phone: &str| json!({"method": "getSms", "phone": phone});
    let reply = |body: Value| {
        let app = app.clone();
        async move { post_to(&app, "/verify", Some(key), body).await.1 }
    };
    assert_eq!(reply(get("8613800000001")).await["code"], "Ok");
    let recorded = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM messages m JOIN tasks t ON t.id = m.task_id WHERE t.origin = 'verify'")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    assert_eq!(recorded().await, 1);

    redis.stop();
    let down = reply(get("8613800000002")).await;
    assert_eq!(down["code"], "InternalError", "{down}");
    assert!(
        down["message"]
            .as_str()
            .unwrap()
            .contains("nothing was sent"),
        "a clear error: {down}"
    );
    let login = json!({"method": "login", "phone": "8613800000001", "code": "123456"});
    assert_eq!(reply(login.clone()).await["code"], "InternalError");
    assert_eq!(recorded().await, 1, "no code went out while Redis was away");

    let _redis = OwnRedis::start(port);
    let mut recovered = false;
    for _ in 0..100 {
        if reply(get("8613800000002")).await["code"] == "Ok" {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(recovered, "getSms works again once Redis is back");
    // This Redis keeps nothing on disk: the code sent before the restart is gone.
    assert_eq!(reply(login).await["code"], "CodeIsError");
}
