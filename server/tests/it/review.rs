//! Signatures, templates and their review, through the console's own endpoints.

use crate::common::{browser, spawn, TestApp, ADMIN_EMAIL};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

const OPERATOR: &str = "olga@example.com";
const SECOND_ADMIN: &str = "bob@example.com";
const PASSWORD: &str = "a long enough password";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

struct Team {
    app: TestApp,
    admin: reqwest::Client,
    operator: reqwest::Client,
}

async fn team(pool: PgPool) -> Team {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    app.create_user(&admin, OPERATOR, PASSWORD, &["operator"])
        .await;
    let (operator, _, _) = app.log_in(OPERATOR, PASSWORD).await;
    Team {
        app,
        admin,
        operator,
    }
}

fn field_of(body: &Value) -> &str {
    body["Invalid"][0]["field"].as_str().unwrap_or_default()
}

async fn create_template(
    team: &Team,
    name: &str,
    sms_type: &str,
    content: &str,
) -> (StatusCode, Value) {
    team.app
        .call(
            &team.operator,
            "create_template",
            &[
                ("name", name),
                ("sms_type", sms_type),
                ("content", content),
                ("remark", ""),
            ],
        )
        .await
}

async fn template_id(team: &Team, name: &str) -> String {
    sqlx::query_scalar::<_, i64>("SELECT id FROM templates WHERE name = $1")
        .bind(name)
        .fetch_one(&team.app.pool)
        .await
        .expect("template stored")
        .to_string()
}

/// Posts the certificate form as a browser would; returns where the server sent the browser.
async fn upload(team: &Team, certificate: Vec<u8>, return_to: &str) -> String {
    let form = reqwest::multipart::Form::new()
        .text("return_to", return_to.to_owned())
        .part(
            "certificate",
            reqwest::multipart::Part::bytes(certificate).file_name("licence.png"),
        )
        .part(
            "authorisation",
            reqwest::multipart::Part::bytes(Vec::new()).file_name(""),
        );
    let response = team
        .operator
        .post(format!("{}/documents", team.app.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    response.headers()["location"].to_str().unwrap().to_owned()
}

async fn create_signature(team: &Team, content: &str, certificate: &str) -> (StatusCode, Value) {
    team.app
        .call(
            &team.operator,
            "create_signature",
            &[
                ("purpose", "0"),
                ("sign_type", "0"),
                ("document_type", "1"),
                ("content", content),
                ("remark", ""),
                ("certificate_id", certificate),
                ("authorisation_id", ""),
            ],
        )
        .await
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn bad_template_content_gets_a_field_error_and_stores_nothing(pool: PgPool) {
    let team = team(pool).await;
    for (content, expected) in [
        ("您好{1}，订单{3}已发货", "consecutively"),
        ("<script>alert(1)</script>您好{1}", "HTML"),
        ("您好{1}{2}", "next to each other"),
        ("{1}", "placeholders only"),
    ] {
        let (status, body) = create_template(&team, "Shipping", "2", content).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{content}");
        assert_eq!(field_of(&body), "content");
        assert!(
            body["Invalid"][0]["message"]
                .as_str()
                .unwrap()
                .contains(expected),
            "{content}: {body}"
        );
    }
    let (status, body) = create_template(&team, "Sale", "1", "春节大促，全场五折").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["Invalid"][0]["message"]
        .as_str()
        .unwrap()
        .contains("unsubscribe"));
    assert_eq!(team.app.count("SELECT count(*) FROM templates").await, 0);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn marketing_templates_need_a_verified_organisation(pool: PgPool) {
    let team = team(pool).await;
    let (status, _) = team
        .app
        .call(
            &team.admin,
            "update_organisation",
            &[("org_name", "Acme"), ("account_type", "organisation")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) =
        create_template(&team, "Sale", "1", "春节大促，全场五折。拒收请回复R").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["Invalid"][0]["message"]
            .as_str()
            .unwrap()
            .contains("verified"),
        "{body}"
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn the_review_state_machine_refuses_illegal_moves(pool: PgPool) {
    let team = team(pool).await;
    let (status, body) =
        create_template(&team, "Code", "3", "您的验证码是{1}，{2}分钟内有效。").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = template_id(&team, "Code").await;
    let app = &team.app;

    // A rejection needs a reason.
    let (status, body) = app
        .call(
            &team.admin,
            "reject_submission",
            &[("subject", "template"), ("id", &id), ("reason", " ")],
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "reason")
    );

    let (status, _) = app
        .call(
            &team.admin,
            "reject_submission",
            &[
                ("subject", "template"),
                ("id", &id),
                ("reason", "Say who sends it"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // A rejected template cannot be approved until it is resubmitted.
    let (status, _) = app
        .call(
            &team.admin,
            "approve_submission",
            &[("subject", "template"), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, template) = app
        .call(&team.operator, "get_template", &[("id", &id)])
        .await;
    assert_eq!(template["status"]["Rejected"]["reason"], "Say who sends it");

    let resubmit = [
        ("id", id.as_str()),
        ("name", "Code"),
        ("sms_type", "3"),
        ("content", "【Acme】您的验证码是{1}，{2}分钟内有效。"),
        ("remark", ""),
    ];
    let (status, body) = app.call(&team.operator, "update_template", &resubmit).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app
        .call(
            &team.admin,
            "approve_submission",
            &[("subject", "template"), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Approved is final: no second decision, no modification.
    let (status, _) = app
        .call(
            &team.admin,
            "approve_submission",
            &[("subject", "template"), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = app.call(&team.operator, "update_template", &resubmit).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, template) = app
        .call(&team.operator, "get_template", &[("id", &id)])
        .await;
    assert_eq!(template["status"], "Approved");

    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE object_type = 'template' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "template.submit",
            "template.reject",
            "template.resubmit",
            "template.approve"
        ]
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn nobody_reviews_their_own_submission(pool: PgPool) {
    let team = team(pool).await;
    let app = &team.app;
    // An admin who is also an operator submits; only another admin may decide.
    app.create_user(&team.admin, SECOND_ADMIN, PASSWORD, &["admin", "operator"])
        .await;
    let (bob, _, _) = app.log_in(SECOND_ADMIN, PASSWORD).await;
    let (status, _) = app
        .call(
            &bob,
            "create_template",
            &[
                ("name", "Notice"),
                ("sms_type", "2"),
                ("content", "订单{1}已发货"),
                ("remark", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let id = template_id(&team, "Notice").await;
    let (status, body) = app
        .call(
            &bob,
            "approve_submission",
            &[("subject", "template"), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["Conflict"].as_str().unwrap().contains("four-eyes"));
    let (status, _) = app
        .call(
            &team.admin,
            "approve_submission",
            &[("subject", "template"), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn review_and_authoring_are_each_for_their_role(pool: PgPool) {
    let team = team(pool).await;
    let app = &team.app;
    app.create_user(&team.admin, "mark@example.com", PASSWORD, &["marketer"])
        .await;
    let (marketer, _, _) = app.log_in("mark@example.com", PASSWORD).await;
    create_template(&team, "Notice", "2", "订单{1}已发货").await;
    let id = template_id(&team, "Notice").await;

    let (status, _) = app
        .call(
            &team.operator,
            "approve_submission",
            &[("subject", "template"), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.call(&team.operator, "review_queue", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call(
            &marketer,
            "create_template",
            &[
                ("name", "X"),
                ("sms_type", "2"),
                ("content", "订单{1}已发货"),
                ("remark", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.call(&marketer, "list_signatures", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call(
            &team.admin,
            "create_template",
            &[
                ("name", "X"),
                ("sms_type", "2"),
                ("content", "订单{1}"),
                ("remark", ""),
            ],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "admins review; operators author"
    );

    let (status, queue) = app.call(&team.admin, "review_queue", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(queue[0]["title"], "Notice");
    assert_eq!(queue[0]["submitted_by"], OPERATOR);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn certificates_are_checked_by_size_and_content_before_anything_is_stored(pool: PgPool) {
    let team = team(pool).await;
    let location = upload(
        &team,
        b"<html>not an image</html>".to_vec(),
        "/signatures/new",
    )
    .await;
    assert!(
        location.starts_with("/signatures/new?upload_field=certificate&upload_error="),
        "{location}"
    );
    assert!(location.contains("PNG"));

    let mut oversize = PNG.to_vec();
    oversize.resize(5 * 1024 * 1024 + 1, 0);
    let location = upload(&team, oversize, "/signatures/new").await;
    assert!(
        location.contains("upload_error=The%20file%20is%20larger%20than%205%20MB"),
        "{location}"
    );
    assert_eq!(team.app.count("SELECT count(*) FROM documents").await, 0);

    let mut largest = PNG.to_vec();
    largest.resize(5 * 1024 * 1024, 0);
    let location = upload(&team, largest, "https://evil.example/").await;
    assert!(
        location.starts_with("/signatures/new?certificate="),
        "{location}"
    );
    assert_eq!(team.app.count("SELECT count(*) FROM documents").await, 1);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn signatures_follow_their_rules(pool: PgPool) {
    let team = team(pool).await;
    let location = upload(&team, PNG.to_vec(), "/signatures/new").await;
    let certificate = location.split("certificate=").nth(1).unwrap().to_owned();

    let (status, body) = create_signature(&team, "这是十三个字的签名内容啊啊", &certificate).await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "content")
    );
    let (status, body) = create_signature(&team, "Acme", "").await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "certificate")
    );
    let (status, body) = team
        .app
        .call(
            &team.operator,
            "create_signature",
            &[
                ("purpose", "0"),
                ("sign_type", "4"),
                ("document_type", "1"),
                ("content", "Acme"),
                ("remark", ""),
                ("certificate_id", &certificate),
                ("authorisation_id", ""),
            ],
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "document_type")
    );
    let (status, body) = team
        .app
        .call(
            &team.operator,
            "create_signature",
            &[
                ("purpose", "1"),
                ("sign_type", "0"),
                ("document_type", "1"),
                ("content", "Acme"),
                ("remark", ""),
                ("certificate_id", &certificate),
                ("authorisation_id", ""),
            ],
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "authorisation")
    );
    assert_eq!(team.app.count("SELECT count(*) FROM signatures").await, 0);

    let (status, body) = create_signature(&team, "腾讯云", &certificate).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = create_signature(&team, "腾讯云", &certificate).await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "content"),
        "a second live one"
    );
    assert!(body["Invalid"][0]["message"]
        .as_str()
        .unwrap()
        .contains("already"));

    // Reviewers see the certificate itself.
    let id: i64 = sqlx::query_scalar("SELECT id FROM signatures")
        .fetch_one(&team.app.pool)
        .await
        .unwrap();
    let (_, signature) = team
        .app
        .call(&team.admin, "get_signature", &[("id", &id.to_string())])
        .await;
    let document = team
        .admin
        .get(format!(
            "{}/documents/{}",
            team.app.base, signature["certificate_id"]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(document.headers()["content-type"], "image/png");
    assert_eq!(document.headers()["x-content-type-options"], "nosniff");
    assert_eq!(document.bytes().await.unwrap().as_ref(), PNG);
    let anonymous = browser()
        .get(format!(
            "{}/documents/{}",
            team.app.base, signature["certificate_id"]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_decision_notifies_the_submitter_and_signs_a_webhook_event(pool: PgPool) {
    let team = team(pool).await;
    let app = &team.app;
    let mut receiver = app.webhook_receiver(&team.admin, StatusCode::OK).await;

    create_template(&team, "Notice", "2", "订单{1}已发货").await;
    let id = template_id(&team, "Notice").await;
    let (_, unread) = app.call(&team.operator, "unread_notifications", &[]).await;
    assert_eq!(unread, json!(0));
    app.call(
        &team.admin,
        "reject_submission",
        &[
            ("subject", "template"),
            ("id", &id),
            ("reason", "Name the shop"),
        ],
    )
    .await;

    let (_, unread) = app.call(&team.operator, "unread_notifications", &[]).await;
    assert_eq!(unread, json!(1));
    let (_, notes) = app.call(&team.operator, "list_notifications", &[]).await;
    assert_eq!(notes[0]["title"], "Template “Notice” was rejected");
    assert_eq!(notes[0]["body"], "Name the shop");

    let delivered = app.deliver_webhooks().await;
    assert_eq!(delivered, 1);
    let event = receiver.next().await;
    assert_eq!(event["type"], "review.decided");
    assert_eq!(event["data"]["status_code"], -1);
    assert_eq!(event["data"]["review_reply"], "Name the shop");
    assert_eq!(event["data"]["reviewer"], ADMIN_EMAIL);
    assert_eq!(
        app.count("SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NOT NULL")
            .await,
        1
    );
    assert_eq!(app.deliver_webhooks().await, 0, "sent once");
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn failed_webhook_deliveries_are_retried_later_and_shown(pool: PgPool) {
    let team = team(pool).await;
    let app = &team.app;
    let mut receiver = app
        .webhook_receiver(&team.admin, StatusCode::SERVICE_UNAVAILABLE)
        .await;
    create_template(&team, "Notice", "2", "订单{1}已发货").await;
    let id = template_id(&team, "Notice").await;
    app.call(
        &team.admin,
        "approve_submission",
        &[("subject", "template"), ("id", &id)],
    )
    .await;

    assert_eq!(app.deliver_webhooks().await, 1);
    let first = receiver.next().await;
    // Not due again until its backoff has passed.
    assert_eq!(app.deliver_webhooks().await, 0);
    let (_, settings) = app.call(&team.admin, "list_alarm_contacts", &[]).await;
    let delivery = &settings["deliveries"][0];
    assert_eq!(delivery["state"]["Retrying"]["attempts"], 1);
    assert_eq!(delivery["last_error"], "receiver answered HTTP 503");

    // Redelivery sends the same event again at once, from a fresh count of attempts.
    let id = delivery["id"].to_string();
    let (status, _) = app
        .call(&team.admin, "redeliver_webhook", &[("id", &id)])
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call(&team.operator, "redeliver_webhook", &[("id", &id)])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins only");
    assert_eq!(app.deliver_webhooks().await, 1);
    assert_eq!(receiver.next().await["id"], first["id"]);
    let (_, settings) = app.call(&team.admin, "list_alarm_contacts", &[]).await;
    assert_eq!(
        settings["deliveries"][0]["state"]["Retrying"]["attempts"],
        1
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn applications_get_a_tencent_style_app_id(pool: PgPool) {
    let team = team(pool).await;
    let app = &team.app;
    let (status, body) = app
        .call(
            &team.operator,
            "create_application",
            &[
                ("name", "Shop"),
                ("callback_url", "ftp://x"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "callback_url")
    );
    let (status, _) = app
        .call(
            &team.operator,
            "create_application",
            &[
                ("name", "Shop"),
                ("callback_url", "https://shop.example/receipts"),
                ("description", "web shop"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, apps) = app.call(&team.operator, "list_applications", &[]).await;
    let sdk_app_id = apps[0]["sdk_app_id"].as_i64().unwrap();
    assert!((1_400_000_000..=1_499_999_999).contains(&sdk_app_id));
    assert_eq!(apps[0]["enabled"], true);
    let id = apps[0]["id"].to_string();
    let (status, _) = app
        .call(
            &team.operator,
            "update_application",
            &[
                ("id", &id),
                ("name", "Shop"),
                ("callback_url", ""),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, updated) = app
        .call(&team.operator, "get_application", &[("id", &id)])
        .await;
    assert_eq!(updated["enabled"], false, "an unticked box disables it");
    assert!(updated["callback_url"].is_null());
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_rejected_signature_is_edited_resubmitted_and_then_frozen(pool: PgPool) {
    let team = team(pool).await;
    let app = &team.app;
    let location = upload(&team, PNG.to_vec(), "/signatures/new").await;
    let certificate = location.split("certificate=").nth(1).unwrap().to_owned();
    create_signature(&team, "Acme", &certificate).await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM signatures")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let id = id.to_string();
    app.call(
        &team.admin,
        "reject_submission",
        &[
            ("subject", "signature"),
            ("id", &id),
            ("reason", "Blurry licence"),
        ],
    )
    .await;

    let edited = [
        ("id", id.as_str()),
        ("purpose", "0"),
        ("sign_type", "1"),
        ("document_type", "4"),
        ("content", "AcmeApp"),
        ("remark", "clearer scan"),
        ("certificate_id", certificate.as_str()),
        ("authorisation_id", ""),
    ];
    let (status, body) = app.call(&team.operator, "update_signature", &edited).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, signature) = app
        .call(&team.operator, "get_signature", &[("id", &id)])
        .await;
    assert_eq!(signature["status"], "Pending");
    assert_eq!(signature["content"], "AcmeApp");
    assert_eq!(signature["sign_type"], "App");

    app.call(
        &team.admin,
        "approve_submission",
        &[("subject", "signature"), ("id", &id)],
    )
    .await;
    let (status, _) = app.call(&team.operator, "update_signature", &edited).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "approved signatures are frozen"
    );

    let (status, body) = app
        .call(&team.operator, "delete_signature", &[("id", &id)])
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "confirm")
    );
    assert_eq!(app.count("SELECT count(*) FROM signatures").await, 1);
    let (status, _) = app
        .call(
            &team.operator,
            "delete_signature",
            &[("id", &id), ("confirm", "on")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.count("SELECT count(*) FROM signatures").await, 0);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn admins_add_sms_packages_and_see_the_balance(pool: PgPool) {
    let team = team(pool).await;
    let app = &team.app;
    let (status, body) = app
        .call(
            &team.admin,
            "add_sms_package",
            &[
                ("units", "0"),
                ("package_type", "1"),
                ("expires_on", "2001-01-01"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["Invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["units", "expires_on"]);
    assert_eq!(app.count("SELECT count(*) FROM sms_packages").await, 0);

    let (status, _) = app
        .call(
            &team.admin,
            "add_sms_package",
            &[
                ("units", "10,000"),
                ("package_type", "1"),
                ("expires_on", "2099-12-31"),
                ("note", "Q4"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.call(
        &team.admin,
        "add_sms_package",
        &[
            ("units", "500"),
            ("package_type", "0"),
            ("expires_on", ""),
            ("note", ""),
        ],
    )
    .await;
    let (_, overview) = app.call(&team.admin, "get_balance", &[]).await;
    assert_eq!(overview["available"], 10_500);
    assert_eq!(overview["packages"][0]["package_type"], "Gift");
    assert_eq!(overview["packages"][1]["amount"], 10_000);
    // The last day counts in full, in mainland time: 2099-12-31 24:00 at UTC+8.
    assert_eq!(
        overview["packages"][1]["expires_at"],
        "2099-12-31T16:00:00Z"
    );

    let (status, _) = app
        .call(
            &team.operator,
            "add_sms_package",
            &[
                ("units", "5"),
                ("package_type", "1"),
                ("expires_on", ""),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn admins_keep_the_opt_out_list(pool: PgPool) {
    let team = team(pool).await;
    let app = &team.app;
    let (status, body) = app
        .call(
            &team.admin,
            "add_opt_out",
            &[("phone", "12345"), ("note", "")],
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "phone")
    );
    let (status, _) = app
        .call(
            &team.admin,
            "add_opt_out",
            &[("phone", "+86 138-0000-0000"), ("note", "asked by phone")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .call(
            &team.admin,
            "add_opt_out",
            &[("phone", "13800000000"), ("note", "")],
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "phone"),
        "already listed"
    );

    let csv = "mobile\n13800000000\n13900000000\nnope\n+447911123456\n13900000000\n";
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("optouts.csv"),
    );
    let response = team
        .admin
        .post(format!("{}/opt-outs/import", app.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        "/settings/opt-outs?imported=2&duplicates=1&invalid=1&invalid_rows=4"
    );
    let (_, page) = app.call(&team.admin, "list_opt_outs", &[]).await;
    assert_eq!(page["total"], 3);
    let phones: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["phone"].as_str().unwrap())
        .collect();
    assert_eq!(
        phones,
        ["+447911123456", "+8613800000000", "+8613900000000"]
    );

    let (status, _) = app
        .call(
            &team.admin,
            "remove_opt_out",
            &[("phone", "+8613900000000")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.count("SELECT count(*) FROM opt_outs").await, 2);
    let (status, _) = app.call(&team.operator, "list_opt_outs", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"13700000000".to_vec()),
    );
    let refused = team
        .operator
        .post(format!("{}/opt-outs/import", app.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT count(*) FROM opt_outs").await, 2);
}
