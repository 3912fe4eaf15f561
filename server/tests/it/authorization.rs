//! Who may touch what: tasks of other marketers and of other origins (API sends, verification
//! streams), receipts posted at the wrong door or too early, one application's key against
//! another application's catalogue and keys.

use crate::common::sending::{counters, engine, now, task, wait_for, world, world_with, World};
use crate::common::verification::set_up_verification;
use app::apps::model::NewKeyPair;
use app::carriers::model::SimulatorSettings;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

const PASSWORD: &str = "marketing password 2";

/// Signs in a user the admin creates now with `roles`.
async fn colleague(w: &World, email: &str, roles: &[&str]) -> reqwest::Client {
    let (admin, _, _) = w
        .app
        .log_in(crate::common::ADMIN_EMAIL, crate::common::ADMIN_PASSWORD)
        .await;
    w.app.create_user(&admin, email, PASSWORD, roles).await;
    w.app.log_in(email, PASSWORD).await.0
}

/// The world's own marketer (Mia), signed in.
async fn mia(w: &World) -> reqwest::Client {
    w.app
        .log_in("mia@example.com", "marketing password 1")
        .await
        .0
}

async fn task_status(w: &World, task: i64) -> String {
    counters(&w.app.pool, task).await.status
}

/// A key pair for `application`.
pub(crate) async fn key_for(w: &World, application: i64) -> NewKeyPair {
    let mut conn = w.app.pool.acquire().await.unwrap();
    app::apps::keys::create(&mut conn, &crate::common::secrets(), application, None)
        .await
        .unwrap()
}

/// Another application, made by the world's marketer as the console would record it.
async fn second_application(w: &World) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO applications (sdk_app_id, name, created_by) VALUES (1400000002, 'Games', $1)
         RETURNING id",
    )
    .bind(w.marketer.id)
    .fetch_one(&w.app.pool)
    .await
    .unwrap()
}

/// A Tencent API call signed with `key` as the SDKs sign it; returns the `Response` object.
pub(crate) async fn tencent(w: &World, key: &NewKeyPair, action: &str, body: &Value) -> Value {
    let payload = serde_json::to_vec(body).unwrap();
    let timestamp = chrono::Utc::now().timestamp();
    let content_type = "application/json; charset=utf-8";
    let host = w.app.base.trim_start_matches("http://");
    let authorization = app::tencent::tc3::authorization(
        &key.secret_id,
        &key.secret_key,
        timestamp,
        "sms",
        &[("content-type", content_type), ("host", host)],
        &payload,
    );
    let response = reqwest::Client::new()
        .post(format!("{}/", w.app.base))
        .header("Content-Type", content_type)
        .header("X-TC-Action", action)
        .header("X-TC-Version", "2021-01-11")
        .header("X-TC-Timestamp", timestamp.to_string())
        .header("X-TC-Region", "ap-guangzhou")
        .header("Authorization", authorization)
        .body(payload)
        .send()
        .await
        .unwrap();
    let answer: Value = response.json().await.unwrap();
    answer["Response"].clone()
}

/// An API task: one SendSms through the catalogue application's key. The engine is not running,
/// so it stays `sending`.
async fn api_task(w: &World) -> i64 {
    let key = key_for(w, w.catalogue.application).await;
    let body = json!({
        "SmsSdkAppId": "1400000001",
        "TemplateId": w.catalogue.notification.to_string(),
        "SignName": "Herald",
        "TemplateParamSet": ["Ann", "Acme"],
        "PhoneNumberSet": ["+8613800000011"],
    });
    let sent = tencent(w, &key, "SendSms", &body).await;
    assert_eq!(sent["SendStatusSet"][0]["Code"], "Ok", "{sent}");
    let serial = sent["SendStatusSet"][0]["SerialNo"].as_str().unwrap();
    let message = app::dispatch::model::id_from_key(serial).expect("a Herald serial");
    sqlx::query_scalar("SELECT task_id FROM messages WHERE id = $1")
        .bind(message)
        .fetch_one(&w.app.pool)
        .await
        .unwrap()
}

/// Asks the verification endpoint for a code to `phone`; returns the answer's code.
async fn get_sms(w: &World, public_key: &str, phone: &str) -> String {
    let reply: Value = reqwest::Client::new()
        .post(format!("{}/verify", w.app.base))
        .header("X-Herald-Key", public_key)
        .json(&json!({"method": "getSms", "phone": phone}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reply["code"].as_str().unwrap_or_default().to_owned()
}

/// Today's verification stream of the catalogue application, opened by a first getSms; returns
/// it with the application's public key.
async fn verification_stream(w: &World) -> (i64, String) {
    let settings = set_up_verification(&w.app.pool, &w.catalogue, w.marketer.id).await;
    assert_eq!(
        get_sms(w, &settings.public_key, "8613800000021").await,
        "Ok"
    );
    let stream = sqlx::query_scalar("SELECT id FROM tasks WHERE origin = 'verify'")
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
    (stream, settings.public_key)
}

/// Bug: `change_task` checks only that the caller is a marketer, though its comment says "its
/// creator or an admin": any marketer pauses or cancels anyone's task.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_marketer_cannot_pause_or_cancel_another_marketers_task(pool: PgPool) {
    let w = world(pool, SimulatorSettings::default()).await;
    // No engine: Mia's task stays `sending`.
    let task = task(&w, 2, 1, now()).await;
    let id = task.to_string();
    let bob = colleague(&w, "bob@example.com", &["marketer"]).await;
    for action in ["pause", "cancel"] {
        let (status, body) = w
            .app
            .call(&bob, "change_task", &[("id", &id), ("action", action)])
            .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "another marketer's {action} of Mia's task: {body}"
        );
    }
    assert_eq!(task_status(&w, task).await, "sending");

    let boss = colleague(&w, "boss@example.com", &["admin", "marketer"]).await;
    let (status, body) = w
        .app
        .call(&boss, "change_task", &[("id", &id), ("action", "pause")])
        .await;
    assert_eq!(status, StatusCode::OK, "an admin may pause it: {body}");
    assert_eq!(task_status(&w, task).await, "paused");
}

/// Bug: `change_task` moves tasks of any origin, so a marketer stops an application's API sends
/// or the day's verification codes (whose creator, for an API task, is the key's user).
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn api_tasks_and_verification_streams_cannot_be_paused_or_cancelled_in_the_console(
    pool: PgPool,
) {
    let w = world(pool, SimulatorSettings::default()).await;
    let api = api_task(&w).await;
    let (stream, _) = verification_stream(&w).await;
    let users = [
        ("Mia", mia(&w).await),
        (
            "an admin",
            colleague(&w, "boss@example.com", &["admin", "marketer"]).await,
        ),
    ];
    let mut moved = Vec::new();
    for (kind, task) in [("API task", api), ("verification stream", stream)] {
        for (who, client) in &users {
            for action in ["pause", "cancel"] {
                let id = task.to_string();
                let (status, _) = w
                    .app
                    .call(client, "change_task", &[("id", &id), ("action", action)])
                    .await;
                if !matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) {
                    moved.push(format!("{who}: {action} {kind} -> {status}"));
                }
            }
        }
    }
    assert!(moved.is_empty(), "refused (403/404) expected: {moved:#?}");
    assert_eq!(task_status(&w, api).await, "sending");
    assert_eq!(task_status(&w, stream).await, "sending");
}

/// Bug: `verify::stream::stream_task` reuses the day's stream whatever its status, so once it is
/// cancelled (an old bug, a crash, a hand in SQL) getSms answers `Ok` for the rest of the China
/// day and no code goes out: the engine claims only `sending` tasks.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_cancelled_verification_stream_does_not_swallow_the_next_code(pool: PgPool) {
    let w = world(pool, SimulatorSettings::default()).await;
    let _engine = engine(&w, 1);
    let (stream, key) = verification_stream(&w).await;
    wait_for("the first code to reach the carrier", async || {
        w.simulator.ledger().accepted == 1
    })
    .await;
    sqlx::query("UPDATE tasks SET status = 'cancelled', finished_at = now() WHERE id = $1")
        .bind(stream)
        .execute(&w.app.pool)
        .await
        .unwrap();
    // As another process would see it, its cache of the application's set-up expired.
    w.app.verify_keys.forget_all();
    assert_eq!(get_sms(&w, &key, "8613800000022").await, "Ok");
    wait_for(
        "the code asked for after the cancel to reach the carrier",
        async || w.simulator.ledger().accepted == 2,
    )
    .await;
}

/// What a marketer gets asking for a task's records, progress, analytics, detail and CSV.
async fn readings(
    w: &World,
    marketer: &reqwest::Client,
    task: i64,
) -> Vec<(&'static str, StatusCode)> {
    let id = task.to_string();
    let mut statuses = Vec::new();
    for (function, field) in [
        ("list_task_messages", "task_id"),
        ("get_task_progress", "id"),
        ("get_task_analytics", "id"),
        ("get_task_detail", "id"),
    ] {
        let (status, _) = w.app.call(marketer, function, &[(field, &id)]).await;
        statuses.push((function, status));
    }
    let csv = marketer
        .get(format!("{}/records/{task}/messages.csv", w.app.base))
        .send()
        .await
        .unwrap();
    statuses.push(("messages.csv", csv.status()));
    statuses
}

/// Bug: the records, progress, analytics and CSV export of any task id are served to every
/// marketer, API sends and verification codes included (phones, outcomes, the day's volume).
/// Delivery Records shares console tasks between marketers, so only those are theirs to read;
/// the rest answer 404, as if absent, so their ids do not leak either.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn marketers_read_console_tasks_only(pool: PgPool) {
    let w = world(pool, SimulatorSettings::default()).await;
    let console = task(&w, 1, 1, now()).await;
    let api = api_task(&w).await;
    let (stream, _) = verification_stream(&w).await;
    let bob = colleague(&w, "bob@example.com", &["marketer"]).await;

    for (function, status) in readings(&w, &bob, console).await {
        assert_eq!(status, StatusCode::OK, "{function} of Mia's console task");
    }
    let mut leaked = Vec::new();
    for (kind, task) in [("API task", api), ("verification stream", stream)] {
        for (function, status) in readings(&w, &bob, task).await {
            if status != StatusCode::NOT_FOUND {
                leaked.push(format!("{function} of the {kind} -> {status}"));
            }
        }
    }
    assert!(leaked.is_empty(), "404 expected: {leaked:#?}");
}

/// Posts a receipt for message `id` in Tencent's callback format to a carrier's receipt path.
async fn post_receipt(w: &World, carrier: i64, token: &str, id: i64, delivered: bool) {
    let (status, errmsg) = if delivered {
        ("SUCCESS", "DELIVRD")
    } else {
        ("FAIL", "UNDELIV")
    };
    reqwest::Client::new()
        .post(format!("{}/receipts/{carrier}/{token}", w.app.base))
        .json(&json!([{
            "user_receive_time": "2026-11-25 10:00:00", "nationcode": "86",
            "mobile": "13800000000", "report_status": status, "errmsg": errmsg,
            "description": "", "sid": format!("sim-hm{id}")
        }]))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
}

async fn message_state(w: &World, id: i64) -> i16 {
    sqlx::query_scalar("SELECT state FROM messages WHERE id = $1")
        .bind(id)
        .fetch_one(&w.app.pool)
        .await
        .unwrap()
}

/// Bug: `receipts::apply::apply_receipts` applies a Herald serial (`hm<id>`) posted at any
/// carrier's receipt path to the message whatever carrier took it: one carrier's token settles
/// every carrier's and application's messages.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_carriers_receipt_path_cannot_settle_another_carriers_message(pool: PgPool) {
    // The world's carrier sends no receipts: its message stays submitted.
    let w = world_with(pool, SimulatorSettings::default(), false).await;
    let _engine = engine(&w, 1);
    let task = task(&w, 1, 1, now()).await;
    let message: i64 = sqlx::query_scalar("SELECT id FROM messages WHERE task_id = $1")
        .bind(task)
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
    wait_for("the carrier to take the message", async || {
        message_state(&w, message).await == 2
    })
    .await;
    // The built-in simulator: another carrier, which never saw the message.
    let (other, token): (i64, String) = sqlx::query_as(
        "SELECT id, receipt_token FROM carriers WHERE id <> $1 AND kind = 'simulator'",
    )
    .bind(w.carrier)
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    post_receipt(&w, other, &token, message, false).await;
    assert_eq!(
        message_state(&w, message).await,
        2,
        "still submitted: another carrier's path cannot fail it"
    );
    assert_eq!(counters(&w.app.pool, task).await.failed, 0);
}

/// Bug: a receipt for a message still queued is kept (`pending_receipts`) and applied when the
/// carrier takes the message, so the genuine receipt that follows counts as a repeat: whoever
/// holds a receipt token decides outcomes before anything is sent.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_receipt_before_the_message_is_sent_does_not_override_the_genuine_one(pool: PgPool) {
    let w = world(pool, SimulatorSettings::default()).await;
    // Not sent yet: the engine starts below.
    let task = task(&w, 1, 1, now()).await;
    let message: i64 = sqlx::query_scalar("SELECT id FROM messages WHERE task_id = $1")
        .bind(task)
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
    assert_eq!(message_state(&w, message).await, 0, "queued");
    post_receipt(&w, w.carrier, "receipt-token", message, false).await;

    let _engine = engine(&w, 1);
    wait_for("the message's outcome", async || {
        message_state(&w, message).await >= 3
    })
    .await;
    assert_eq!(
        message_state(&w, message).await,
        3,
        "delivered, as the carrier's own receipt says"
    );
    let c = counters(&w.app.pool, task).await;
    assert_eq!((c.delivered, c.failed), (1, 0));
}

/// Bug: ModifySmsTemplate / DeleteSmsTemplate / ModifySmsSign / DeleteSmsSign act on any
/// template or signature, whichever application's key (or console user) made it: one
/// application's key deletes what another's verification codes go out with.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn an_api_key_cannot_change_another_applications_templates_or_signatures(pool: PgPool) {
    use base64::Engine as _;
    let w = world(pool, SimulatorSettings::default()).await;
    let settings = set_up_verification(&w.app.pool, &w.catalogue, w.marketer.id).await;
    let theirs = key_for(&w, w.catalogue.application).await;
    let ours = key_for(&w, second_application(&w).await).await;

    let template = json!({
        "TemplateName": "Shipping", "TemplateContent": "Your order {1} has shipped.",
        "SmsType": 2, "International": 0, "Remark": "order updates",
    });
    let added = tencent(&w, &theirs, "AddSmsTemplate", &template).await;
    let their_template = added["AddTemplateStatus"]["TemplateId"].clone();
    assert!(their_template.is_string(), "{added}");
    let proof = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\nproof");
    let sign = json!({
        "SignName": "艾克米商城", "SignType": 0, "DocumentType": 0, "International": 0,
        "SignPurpose": 0, "ProofImage": proof, "Remark": "our shop",
    });
    let added = tencent(&w, &theirs, "AddSmsSign", &sign).await;
    let their_sign = added["AddSignStatus"]["SignId"].clone();
    assert!(their_sign.is_i64(), "{added}");

    let mut template_change = template.clone();
    template_change["TemplateId"] = their_template;
    template_change["TemplateContent"] = json!("Order {1} left our warehouse.");
    let mut sign_change = sign.clone();
    sign_change["SignId"] = their_sign;
    sign_change["SignName"] = json!("艾克米商店");
    let attempts = [
        ("ModifySmsTemplate", template_change),
        ("ModifySmsSign", sign_change),
        (
            "DeleteSmsTemplate",
            json!({"TemplateId": settings.template_id}),
        ),
        ("DeleteSmsSign", json!({"SignId": settings.signature_id})),
    ];
    let mut allowed = Vec::new();
    for (action, body) in attempts {
        let answer = tencent(&w, &ours, action, &body).await;
        let code = answer["Error"]["Code"].as_str().unwrap_or("no error");
        if !code.starts_with("UnauthorizedOperation.") {
            allowed.push(format!("{action} -> {code}"));
        }
    }
    assert!(
        allowed.is_empty(),
        "another application's key must be refused: {allowed:#?}"
    );
    assert_eq!(
        get_sms(&w, &settings.public_key, "8613800000031").await,
        "Ok",
        "the other application's verification codes still go out"
    );
}

/// Bug: `revoke_api_key` revokes the key it is given without checking it belongs to the
/// application it names, so a form naming one application revokes another's key.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn revoking_a_key_under_another_application_leaves_it_working(pool: PgPool) {
    let w = world(pool, SimulatorSettings::default()).await;
    let operator = colleague(&w, "olga@example.com", &["operator"]).await;
    let named = second_application(&w).await;
    let key = key_for(&w, w.catalogue.application).await;
    let key_id: i64 = sqlx::query_scalar("SELECT id FROM api_keys WHERE secret_id = $1")
        .bind(&key.secret_id)
        .fetch_one(&w.app.pool)
        .await
        .unwrap();

    let (status, body) = w
        .app
        .call(
            &operator,
            "revoke_api_key",
            &[
                ("application_id", &named.to_string()),
                ("key_id", &key_id.to_string()),
            ],
        )
        .await;
    let list = json!({"TemplateIdSet": [w.catalogue.notification], "International": 0});
    let answer = tencent(&w, &key, "DescribeSmsTemplateList", &list).await;
    assert!(
        answer["Error"].is_null(),
        "the key still authenticates: {answer}"
    );
    assert!(
        status.is_client_error(),
        "revoking under the wrong application is refused: {status} {body}"
    );
}
