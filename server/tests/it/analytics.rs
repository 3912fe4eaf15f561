//! Receipts through both doors, and the counters analytics and statistics read: after a random
//! mix of sends and duplicate, out-of-order and unknown receipts they equal raw counts of the
//! message table.

use std::collections::BTreeMap;

use crate::common::sending::*;
use app::carriers::model::SimulatorSettings;
use app::numbers::{MobileCarrier, PhoneNumber};
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};
use sqlx::PgPool;

async fn scalar(pool: &PgPool, sql: &str, task: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(task)
        .fetch_one(pool)
        .await
        .expect(sql)
}

async fn pairs(pool: &PgPool, sql: &str, task: i64) -> BTreeMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>(sql)
        .bind(task)
        .fetch_all(pool)
        .await
        .expect(sql)
        .into_iter()
        .collect()
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn counters_equal_raw_counts_after_random_receipts(pool: PgPool) {
    // The simulator refuses some numbers and sends no receipts: the test sends them.
    let w = world_with(
        pool,
        SimulatorSettings {
            accept_rate: 0.85,
            seed: Some(5),
            ..Default::default()
        },
        false,
    )
    .await;
    let _engine = engine(&w, 2);
    let prefixes = ["138", "186", "189", "135", "131"];
    let phones: Vec<String> = (0..600)
        .map(|i| format!("{}{:08}", prefixes[i % prefixes.len()], i))
        .collect();
    let task = task_to(&w, &phones, 4, now()).await;
    wait_for("every message to be handed over", async || {
        counters(&w.app.pool, task).await.status == "completed"
    })
    .await;
    let pool = &w.app.pool;
    let submitted: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT id, serial_no, phone FROM messages WHERE task_id = $1 AND state = 2",
    )
    .bind(task)
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(submitted.len() > 400, "{}", submitted.len());

    // A receipt per message, some twice, in random order, in random batches, half through the
    // carrier's door (Tencent format) and half through the application's (generic format), plus
    // receipts naming nothing.
    let mut rng = rand::thread_rng();
    let codes = ["UNDELIV", "EXPIRED", "REJECTD", "MK:0001"];
    let mut receipts: Vec<(String, String, bool, String)> = Vec::new();
    for (_, serial, phone) in &submitted {
        let delivered = rng.gen_bool(0.8);
        let code = if delivered {
            "DELIVRD"
        } else {
            codes[rng.gen_range(0..codes.len())]
        };
        let times = if rng.gen_bool(0.2) { 2 } else { 1 };
        for _ in 0..times {
            receipts.push((serial.clone(), phone.clone(), delivered, code.to_owned()));
        }
    }
    let unknown = 7;
    for i in 0..unknown {
        receipts.push((
            format!("nobody-hm{}", 900_000_000 + i),
            "+8613800000000".into(),
            true,
            "DELIVRD".into(),
        ));
    }
    receipts.shuffle(&mut rng);
    let (sdk_app_id, token): (i64, String) =
        sqlx::query_as("SELECT sdk_app_id, receipt_token FROM applications WHERE id = $1")
            .bind(w.catalogue.application)
            .fetch_one(pool)
            .await
            .unwrap();
    let client = reqwest::Client::new();
    for (n, batch) in receipts.chunks(37).enumerate() {
        let (url, body) = if n % 2 == 0 {
            let body: Vec<Value> = batch
                .iter()
                .map(|(serial, phone, ok, code)| {
                    json!({ "user_receive_time": "2026-11-25 12:00:00", "nationcode": "86",
                            "mobile": phone.trim_start_matches("+86"),
                            "report_status": if *ok { "SUCCESS" } else { "FAIL" },
                            "errmsg": code, "description": "", "sid": serial })
                })
                .collect();
            (
                format!("{}/receipts/{}/receipt-token", w.app.base, w.carrier),
                json!(body),
            )
        } else {
            let body: Vec<Value> = batch
                .iter()
                .map(|(serial, phone, ok, code)| {
                    json!({ "serial": serial, "delivered": ok, "code": code, "phone": phone })
                })
                .collect();
            (
                format!("{}/receipts/app/{sdk_app_id}/{token}", w.app.base),
                json!({ "receipts": body }),
            )
        };
        let answer: Value = client
            .post(url)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer, json!({ "result": 0, "errmsg": "OK" }));
    }

    let raw = |sql: &'static str| scalar(pool, sql, task);
    let delivered = raw("SELECT count(*) FROM messages WHERE task_id = $1 AND state = 3").await;
    let receipt_failed = raw(
        "SELECT count(*) FROM messages WHERE task_id = $1 AND state = 4 AND submitted_at IS NOT NULL",
    )
    .await;
    let refused = raw(
        "SELECT count(*) FROM messages WHERE task_id = $1 AND state IN (4, 5) AND submitted_at IS NULL",
    )
    .await;
    let taken =
        raw("SELECT count(*) FROM messages WHERE task_id = $1 AND submitted_at IS NOT NULL").await;
    assert_eq!(
        delivered + receipt_failed,
        submitted.len() as i64,
        "every receipt applied once"
    );
    assert_eq!(
        raw("SELECT sum(delivered)::bigint FROM task_seconds WHERE task_id = $1").await,
        delivered
    );
    assert_eq!(
        raw("SELECT sum(failed)::bigint FROM task_seconds WHERE task_id = $1").await,
        receipt_failed
    );
    assert_eq!(
        raw("SELECT sum(refused)::bigint FROM task_seconds WHERE task_id = $1").await,
        refused
    );
    assert_eq!(
        raw("SELECT sum(submitted)::bigint FROM task_seconds WHERE task_id = $1").await,
        taken
    );
    assert_eq!(
        raw("SELECT refused::bigint FROM tasks WHERE id = $1").await,
        refused,
        "the task's own count of refusals"
    );
    assert_eq!(
        raw("SELECT sum(receipts)::bigint FROM task_latency WHERE task_id = $1").await,
        delivered + receipt_failed
    );
    assert_eq!(
        pairs(pool, "SELECT code, messages::bigint FROM task_failures WHERE task_id = $1", task).await,
        pairs(
            pool,
            "SELECT code, count(*) FROM messages WHERE task_id = $1 AND state IN (4, 5) GROUP BY code",
            task
        )
        .await
    );
    assert_eq!(
        pairs(
            pool,
            "SELECT operator::text || '/' || recipients || '/' || submitted || '/' || delivered || '/' || failed, 0::bigint
               FROM task_operators WHERE task_id = $1",
            task
        )
        .await,
        pairs(
            pool,
            "SELECT mobile_operator(phone)::text || '/' || count(*) || '/' || count(submitted_at) || '/'
                    || count(*) FILTER (WHERE state = 3) || '/'
                    || count(*) FILTER (WHERE state = 4 AND submitted_at IS NOT NULL), 0::bigint
               FROM messages WHERE task_id = $1 GROUP BY mobile_operator(phone)",
            task
        )
        .await
    );
    assert_eq!(
        pairs(
            pool,
            "SELECT 'requests', sum(requests)::bigint FROM stats_hourly
             UNION ALL SELECT 'submitted', sum(submitted)::bigint FROM stats_hourly
             UNION ALL SELECT 'units', sum(units)::bigint FROM stats_hourly
             UNION ALL SELECT 'ok', sum(receipts_ok)::bigint FROM stats_hourly
             UNION ALL SELECT 'fail', sum(receipts_fail)::bigint FROM stats_hourly
             UNION ALL SELECT 'unused', $1 - $1",
            task
        )
        .await,
        pairs(
            pool,
            "SELECT 'requests', count(*) FROM messages WHERE task_id = $1
             UNION ALL SELECT 'submitted', count(submitted_at) FROM messages WHERE task_id = $1
             UNION ALL SELECT 'units', sum(units) FILTER (WHERE submitted_at IS NOT NULL)::bigint FROM messages WHERE task_id = $1
             UNION ALL SELECT 'ok', count(*) FILTER (WHERE state = 3) FROM messages WHERE task_id = $1
             UNION ALL SELECT 'fail', count(*) FILTER (WHERE state = 4 AND submitted_at IS NOT NULL) FROM messages WHERE task_id = $1
             UNION ALL SELECT 'unused', 0",
            task
        )
        .await
    );
    let c = counters(pool, task).await;
    assert_eq!(
        (i64::from(c.delivered), i64::from(c.failed)),
        (delivered, receipt_failed + refused)
    );
    let unmatched: i64 =
        sqlx::query_scalar("SELECT coalesce(sum(receipts), 0)::bigint FROM unmatched_receipts")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(unmatched, unknown);

    // The analytics the page shows come from these counters.
    let marketer = w
        .app
        .log_in("mia@example.com", "marketing password 1")
        .await
        .0;
    let (status, analytics) = w
        .app
        .call(
            &marketer,
            "get_task_analytics",
            &[("id", &task.to_string())],
        )
        .await;
    assert_eq!(status, 200, "{analytics}");
    assert_eq!(analytics["headline"]["delivered"], delivered);
    assert_eq!(analytics["headline"]["awaiting"], 0);
    assert_eq!(analytics["headline"]["recipients"], 600);
    let operators: Vec<&str> = analytics["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["operator"].as_str().unwrap())
        .collect();
    assert_eq!(operators, ["China Mobile", "China Unicom", "China Telecom"]);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn receipt_doors_refuse_strangers_and_other_applications_messages(pool: PgPool) {
    let w = world_with(pool, SimulatorSettings::default(), false).await;
    let _engine = engine(&w, 1);
    let task = task(&w, 3, 1, now()).await;
    wait_for("the task", async || {
        counters(&w.app.pool, task).await.status == "completed"
    })
    .await;
    let serial: String = sqlx::query_scalar(
        "SELECT serial_no FROM messages WHERE task_id = $1 AND state = 2 LIMIT 1",
    )
    .bind(task)
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    let (sdk_app_id, token): (i64, String) =
        sqlx::query_as("SELECT sdk_app_id, receipt_token FROM applications WHERE id = $1")
            .bind(w.catalogue.application)
            .fetch_one(&w.app.pool)
            .await
            .unwrap();
    let client = reqwest::Client::new();
    let body = json!({ "receipts": [{ "serial": serial, "delivered": true }] });
    let post = |url: String, body: Value| {
        let client = client.clone();
        async move {
            client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        post(
            format!("{}/receipts/app/{sdk_app_id}/wrong", w.app.base),
            body.clone()
        )
        .await,
        401
    );
    assert_eq!(
        post(
            format!("{}/receipts/app/1/{token}", w.app.base),
            body.clone()
        )
        .await,
        401
    );
    assert_eq!(
        post(
            format!("{}/receipts/app/{sdk_app_id}/{token}", w.app.base),
            json!({"x": 1})
        )
        .await,
        400
    );

    // Another application's door cannot touch this application's messages.
    let other: (i64, String) = sqlx::query_as(
        "INSERT INTO applications (sdk_app_id, name) VALUES (1400999999, 'Other')
         RETURNING sdk_app_id, receipt_token",
    )
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    assert_eq!(
        post(
            format!("{}/receipts/app/{}/{}", w.app.base, other.0, other.1),
            body.clone()
        )
        .await,
        200
    );
    assert_eq!(counters(&w.app.pool, task).await.delivered, 0);

    // Signed instead of a token in the path; a stale timestamp is refused.
    let bytes = serde_json::to_vec(&body).unwrap();
    let signed = |timestamp: i64| {
        client
            .post(format!("{}/receipts/app/{sdk_app_id}", w.app.base))
            .header("Content-Type", "application/json")
            .header("X-Herald-Timestamp", timestamp.to_string())
            .header(
                "X-Herald-Signature",
                app::signing::signature(&token, timestamp, &bytes),
            )
            .body(bytes.clone())
            .send()
    };
    let stale = chrono::Utc::now().timestamp() - 3600;
    assert_eq!(signed(stale).await.unwrap().status().as_u16(), 401);
    assert_eq!(
        signed(chrono::Utc::now().timestamp())
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(counters(&w.app.pool, task).await.delivered, 1);
}

/// Counters are filed by SQL's `mobile_operator()`, numbers read by `PhoneNumber::carrier`: every
/// mainland prefix to four digits (which covers 130–199 and the 170 block split by its fourth),
/// with the rest of the number all zeros and all nines, lands with the same operator in both.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn sql_and_rust_file_every_mainland_prefix_with_the_same_operator(pool: PgPool) {
    let numbers: Vec<PhoneNumber> = (1300..=1999)
        .flat_map(|prefix| [format!("{prefix:0<11}"), format!("{prefix:9<11}")])
        .chain(["+447911123456".to_owned()])
        .map(|raw| PhoneNumber::parse(&raw).expect(&raw))
        .collect();
    let phones: Vec<&str> = numbers.iter().map(PhoneNumber::as_str).collect();
    let filed: Vec<i16> = sqlx::query_scalar(
        "SELECT mobile_operator(phone) FROM unnest($1::text[]) WITH ORDINALITY AS p (phone, i)
          ORDER BY i",
    )
    .bind(&phones)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(filed.len(), numbers.len());
    for (number, sql) in numbers.iter().zip(filed) {
        assert_eq!(sql, number.carrier().code(), "{}", number.as_str());
    }
    for carrier in MobileCarrier::ALL {
        assert!(
            numbers.iter().any(|n| n.carrier() == carrier),
            "no prefix reaches {carrier:?}"
        );
    }
}

/// Virtual operators count for their host network, China Broadnet for itself, and what is not
/// one of the four networks' phones comes last as "Other".
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn analytics_split_virtual_and_broadnet_numbers_by_network(pool: PgPool) {
    let w = world_with(pool, SimulatorSettings::default(), false).await;
    let phones = [
        "17212345678",
        "17031234567",
        "17041234567",
        "16712345678",
        "19212345678",
        "19212345679",
        "17412345678",
    ]
    .map(str::to_owned);
    // No engine runs: the split is of recipients, counted when the task is made.
    let task = task_to(&w, &phones, 1, now()).await;
    let marketer = w
        .app
        .log_in("mia@example.com", "marketing password 1")
        .await
        .0;
    let mut operators = Vec::new();
    wait_for("the recipients to be counted", async || {
        let (status, analytics) = w
            .app
            .call(
                &marketer,
                "get_task_analytics",
                &[("id", &task.to_string())],
            )
            .await;
        assert_eq!(status, 200, "{analytics}");
        operators = analytics["operators"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["operator"].as_str().unwrap().to_owned(),
                    o["recipients"].as_i64().unwrap(),
                )
            })
            .collect();
        !operators.is_empty()
    })
    .await;
    let expected = [
        ("China Mobile", 2),
        ("China Unicom", 2),
        ("China Broadnet", 2),
        ("Other / international", 1),
    ];
    assert_eq!(
        operators,
        expected.map(|(name, recipients)| (name.to_owned(), recipients))
    );
}
