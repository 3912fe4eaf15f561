//! Organisation event webhooks: what a customer's endpoint hears about campaigns, messages and
//! the balance (review decisions are covered with the review workflow).

use std::collections::HashSet;

use crate::common::sending::{
    counters, engine, now, set_up_sms_alerts, settled, sms_alerts, task, wait_for, world,
};
use crate::common::{spawn, ADMIN_EMAIL, ADMIN_PASSWORD};
use app::carriers::model::SimulatorSettings;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

fn message_ids(events: &[&Value]) -> Vec<i64> {
    events
        .iter()
        .flat_map(|e| e["data"]["messages"].as_array().unwrap().iter())
        .map(|m| m["message_id"].as_i64().unwrap())
        .collect()
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_campaign_reports_its_start_every_message_outcome_and_its_end_once(pool: PgPool) {
    let w = world(
        pool,
        SimulatorSettings {
            accept_rate: 0.9,
            delivery_rate: 0.8,
            seed: Some(5),
            ..Default::default()
        },
    )
    .await;
    let (admin, _, _) = w.app.log_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut receiver = w.app.webhook_receiver(&admin, StatusCode::OK).await;
    let _engine = engine(&w, 2);
    let task = task(&w, 300, 7, now()).await;
    wait_for("the task to settle", async || {
        settled(&w.app.pool, task).await
    })
    .await;
    while w.app.deliver_webhooks().await > 0 {}
    let events = receiver.received();

    let event_ids: HashSet<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(event_ids.len(), events.len(), "each event delivered once");
    let started = of_type(&events, "task.started");
    assert_eq!(started.len(), 1);
    assert_eq!(started[0]["data"]["task_id"], task);
    assert_eq!(started[0]["data"]["recipients"], 300);
    assert_eq!(started[0]["data"]["sdk_app_id"], 1400000001);
    let completed = of_type(&events, "task.completed");
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0]["data"]["previous_status"], "sending");

    // Every message is reported once, in the batch of its final state (refused at submission
    // counts as failed), and the batches agree with the task's counters and the stored states.
    let c = counters(&w.app.pool, task).await;
    let delivered = message_ids(&of_type(&events, "message.delivered"));
    let failed = message_ids(&of_type(&events, "message.failed"));
    assert_eq!(delivered.len(), c.delivered as usize);
    assert_eq!(failed.len(), c.failed as usize);
    assert!(c.delivered > 150 && c.failed > 20, "{c:?}");
    let all: HashSet<i64> = delivered.iter().chain(&failed).copied().collect();
    assert_eq!(all.len(), 300, "no message reported twice or missed");
    let stored = |state: i16| {
        let pool = w.app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT id FROM messages WHERE task_id = $1 AND state = $2 ORDER BY id",
            )
            .bind(task)
            .bind(state)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    let mut delivered_sorted = delivered.clone();
    delivered_sorted.sort_unstable();
    assert_eq!(delivered_sorted, stored(3).await);
    let failed_message = of_type(&events, "message.failed")[0]["data"]["messages"][0].clone();
    assert!(failed_message["code"]
        .as_str()
        .is_some_and(|c| !c.is_empty()));
    assert!(
        failed_message["phone"]
            .as_str()
            .is_some_and(|p| p.starts_with("+86138")),
        "{failed_message}"
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_low_balance_is_reported_once_each_time_it_falls_below_the_threshold(pool: PgPool) {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    let mut receiver = app.webhook_receiver(&admin, StatusCode::OK).await;
    sqlx::query("INSERT INTO sms_packages (units, package_type) VALUES (1000, 1)")
        .execute(&app.pool)
        .await
        .unwrap();
    let check = || app::alerts::repo::check_balance(&app.pool);

    let (status, body) = app
        .call(
            &admin,
            "set_balance_alert",
            &[("balance_low_units", "lots")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Invalid"][0]["field"], "balance_low_units");
    let (status, _) = app
        .call(&admin, "set_balance_alert", &[("balance_low_units", "500")])
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, alerts) = app.call(&admin, "list_alarm_contacts", &[]).await;
    assert_eq!(alerts["balance_low_units"], 500);
    assert!(check().await.unwrap().is_none(), "1,000 units left");

    sqlx::query("UPDATE sms_packages SET used = 600")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        check().await.unwrap(),
        Some(app::alerts::repo::LowBalance {
            available: 400,
            threshold: 500
        })
    );
    assert!(
        check().await.unwrap().is_none(),
        "reported once while it stays low"
    );
    assert_eq!(app.deliver_webhooks().await, 1);
    let event = receiver.next().await;
    assert_eq!(event["type"], "balance.low");
    assert_eq!(event["data"]["available_units"], 400);
    assert_eq!(event["data"]["threshold_units"], 500);

    // Topped up, then spent again: a new fall, a new event.
    sqlx::query("INSERT INTO sms_packages (units, package_type) VALUES (1000, 1)")
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(check().await.unwrap().is_none());
    sqlx::query("UPDATE sms_packages SET used = units")
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(check().await.unwrap().is_some());

    let (status, _) = app
        .call(&admin, "set_balance_alert", &[("balance_low_units", "")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(check().await.unwrap().is_none(), "no threshold, no alert");
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log WHERE action = 'alerts.balance_threshold'")
            .await,
        2
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_low_balance_is_sent_by_sms_to_the_alarm_contacts_phone(pool: PgPool) {
    let w = world(pool, SimulatorSettings::default()).await;
    let (admin, _, _) = w.app.log_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // Only templates that can carry the alert's text are offered, and only those are taken.
    let (status, body) = w
        .app
        .call(
            &admin,
            "set_alert_sms",
            &[
                ("sms_application_id", &w.catalogue.application.to_string()),
                ("sms_template_id", &w.catalogue.notification.to_string()),
                ("sms_signature_id", &w.catalogue.signature.to_string()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Invalid"][0]["field"], "sms_template_id");
    let template = set_up_sms_alerts(&w).await;
    let (_, alerts) = w.app.call(&admin, "list_alarm_contacts", &[]).await;
    assert_eq!(alerts["sms"]["template_id"], template);

    let (status, _) = w
        .app
        .call(
            &admin,
            "set_balance_alert",
            &[("balance_low_units", "2000000")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app::alerts::sms::report_low_balance(&w.app.pool, &w.limiter)
        .await
        .unwrap();
    app::alerts::sms::report_low_balance(&w.app.pool, &w.limiter)
        .await
        .unwrap();
    assert_eq!(
        sms_alerts(&w.app.pool).await,
        vec![(
            "+8613912345678".to_owned(),
            "短信余额剩余1000000条，低于告警阈值2000000条".to_owned()
        )],
        "one SMS per fall"
    );
    let _engine = engine(&w, 1);
    wait_for("the alert to reach the carrier", async || {
        w.simulator.ledger().accepted == 1
    })
    .await;
}

/// A receiver that takes its time holds up only its own delivery: the others of the batch go out
/// meanwhile, and the batch ends within one attempt's timeout, inside the lease.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_slow_receiver_delays_nobody_else(pool: PgPool) {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    // Answers only when the test lets it (or never, past the worker's timeout).
    let gate = std::sync::Arc::new(tokio::sync::Notify::new());
    let held = std::sync::Arc::clone(&gate);
    let router = axum::Router::new().route(
        "/slow",
        axum::routing::post(move || {
            let held = std::sync::Arc::clone(&held);
            async move {
                held.notified().await;
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slow_url = format!("http://{}/slow", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let (status, body) = app
        .call(
            &admin,
            "add_alarm_contact",
            &[
                ("name", "Slow"),
                ("email", ""),
                ("phone", "+8613800000001"),
                ("webhook_url", &slow_url),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut fast = app.webhook_receiver(&admin, StatusCode::OK).await;

    let mut conn = app.pool.acquire().await.unwrap();
    app::alerts::repo::enqueue_event(&mut conn, "balance.low", serde_json::json!({}))
        .await
        .unwrap();
    // The slow receiver's delivery is the older one: a worker taking them in turn starts there.
    sqlx::query(
        "UPDATE webhook_deliveries d SET next_attempt_at = now() - interval '1 minute'
           FROM alarm_contacts c WHERE c.id = d.contact_id AND c.webhook_url = $1",
    )
    .bind(&slow_url)
    .execute(&app.pool)
    .await
    .unwrap();

    let pool = app.pool.clone();
    let worker = tokio::spawn(async move {
        herald::webhooks::deliver_due(&pool, &herald::webhooks::client()).await
    });
    // Well before the slow attempt's 10 s timeout, which a worker in turn would wait out first.
    let arrived = tokio::time::timeout(std::time::Duration::from_secs(5), fast.next()).await;
    assert!(arrived.is_ok(), "the fast receiver waited for the slow one");
    gate.notify_one();
    assert_eq!(worker.await.unwrap().unwrap(), 2);
    assert_eq!(
        app.count("SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NOT NULL")
            .await,
        2
    );
}
