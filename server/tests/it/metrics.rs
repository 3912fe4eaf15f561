//! `/metrics`: the series a Prometheus scraping Herald sees after a small campaign. The metrics
//! are the process's, and other tests of this binary send at the same time: the campaign goes
//! through a `herald serve` process of its own, which counts nothing else.

use app::carriers::model::SimulatorSettings;
use reqwest::StatusCode;
use sqlx::PgPool;

use crate::common::process::{free_port, server, wait_until_up};
use crate::common::sending::{
    counters, numbers, recipients_csv, settled, wait_for, world_receipts_to, MARKETER_EMAIL,
    MARKETER_PASSWORD,
};
use crate::common::{database_url, TestApp, METRICS_TOKEN};

/// The value of one series (name and labels exactly as exposed).
fn value(exposition: &str, series: &str) -> Option<f64> {
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().expect("a number"))
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_token_holder_reads_the_series_of_a_small_campaign(pool: PgPool) {
    let port = free_port();
    let served = format!("http://127.0.0.1:{port}");
    let w = world_receipts_to(
        pool,
        SimulatorSettings {
            accept_rate: 0.8,
            seed: Some(11),
            ..Default::default()
        },
        &served,
    )
    .await;
    let _server = server(&database_url(&w.app.pool).await, port);
    wait_until_up(port).await;
    // The same database, served (and sent from) by that process.
    let console = TestApp {
        base: served,
        ..w.app.clone()
    };
    let (marketer, status, body) = console.log_in(MARKETER_EMAIL, MARKETER_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let csv = recipients_csv(&numbers(40), 3).into_bytes();
    let (status, body) = console
        .upload_file(
            &marketer,
            &w.catalogue,
            w.catalogue.notification,
            "small.csv",
            csv,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let upload = body["upload_id"].as_i64().unwrap();
    let report = console.report_when_ready(&marketer, upload).await;
    assert_eq!(report["accepted"], 40, "{report}");
    let (status, body) = console
        .call(
            &marketer,
            "create_task",
            &[
                ("upload_id", &upload.to_string()),
                ("name", "Small campaign"),
                ("send_mode", "now"),
                ("time_zone", "Asia/Shanghai"),
                ("consent", "yes"),
            ],
        )
        .await;
    assert!(
        status.is_success() || status.is_redirection(),
        "{status} {body}"
    );
    let task = console.count("SELECT id FROM tasks").await;
    wait_for("the task to settle", async || {
        settled(&w.app.pool, task).await
    })
    .await;
    let c = counters(&w.app.pool, task).await;
    assert!(c.sent > 20 && c.sent < 40, "{c:?}");

    let url = format!("{}/metrics", console.base);
    let client = reqwest::Client::new();
    let anonymous = client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let wrong = client.get(&url).bearer_auth("guess").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let scrape = || async {
        let response = client
            .get(&url)
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"));
        response.text().await.unwrap()
    };
    // The last receipt is counted just after it is stored.
    let carrier = w.carrier;
    wait_for("every receipt counted", async || {
        value(
            &scrape().await,
            "herald_receipts_total{outcome=\"applied\"}",
        ) == Some(f64::from(c.sent))
    })
    .await;
    let text = scrape().await;

    let submitted = format!("herald_messages_total{{state=\"submitted\",carrier=\"{carrier}\"}}");
    assert_eq!(value(&text, &submitted), Some(f64::from(c.sent)), "{text}");
    assert_eq!(
        value(
            &text,
            "herald_messages_total{state=\"failed\",carrier=\"none\"}"
        ),
        Some(f64::from(40 - c.sent)),
        "refused at submission: {text}"
    );
    let calls = format!(
        "herald_carrier_call_duration_seconds_count{{carrier=\"{carrier}\",outcome=\"answered\"}}"
    );
    assert!(value(&text, &calls).is_some_and(|n| n >= 3.0), "{text}");
    let receipt_posts = "herald_http_requests_total{route=\"/receipts/{carrier}/{token}\",method=\"POST\",status=\"200\"}";
    assert!(
        value(&text, receipt_posts).is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "herald_import_duration_seconds_count{outcome=\"imported\"}"
        ),
        Some(1.0)
    );
    for idle in [
        "herald_queued_messages",
        "herald_dispatch_chunks_waiting",
        "herald_tasks_sending",
    ] {
        assert_eq!(value(&text, idle), Some(0.0), "{idle}: {text}");
    }
    assert!(text.ends_with("# EOF\n"));
}
