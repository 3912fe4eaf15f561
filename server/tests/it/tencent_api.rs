//! The Tencent Cloud SMS API: every check a request goes through, with Tencent's error codes,
//! and a call through the official Python SDK (tencentcloud-sdk-python) pointed at Herald.

use crate::common;
use crate::common::catalogue::catalogue;
use serde_json::{json, Value};
use sqlx::PgPool;

#[derive(Clone)]
struct Api {
    app: common::TestApp,
    host: String,
    secret_id: String,
    secret_key: String,
    template: i64,
}

async fn api(pool: PgPool) -> Api {
    let app = common::spawn(pool).await;
    app.set_up().await;
    let user = app.user_id(common::ADMIN_EMAIL).await;
    let c = catalogue(&app.pool, user).await;
    api_for(app, &c).await
}

/// A sending world whose simulator delivers everything, and a key pair for its application.
async fn delivering_world(pool: PgPool) -> (common::sending::World, Api) {
    let w = common::sending::world(
        pool,
        app::carriers::model::SimulatorSettings {
            delivery_rate: 1.0,
            ..Default::default()
        },
    )
    .await;
    let api = api_for(w.app.clone(), &w.catalogue).await;
    (w, api)
}

/// A key pair for the catalogue's application, and the calls signed with it.
async fn api_for(app: common::TestApp, c: &common::catalogue::Catalogue) -> Api {
    let mut conn = app.pool.acquire().await.unwrap();
    let pair = app::apps::keys::create(&mut conn, &common::secrets(), c.application, None)
        .await
        .unwrap();
    Api {
        host: app.base.trim_start_matches("http://").to_owned(),
        app,
        secret_id: pair.secret_id,
        secret_key: pair.secret_key,
        template: c.notification,
    }
}

impl Api {
    /// Posts `body` as `action`, signed like the SDKs sign (content-type and host).
    async fn call(
        &self,
        action: &str,
        body: &Value,
        tweak: impl FnOnce(&mut Vec<(String, String)>),
    ) -> Value {
        let payload = serde_json::to_vec(body).unwrap();
        let timestamp = chrono::Utc::now().timestamp();
        let content_type = "application/json; charset=utf-8";
        let authorization = app::tencent::tc3::authorization(
            &self.secret_id,
            &self.secret_key,
            timestamp,
            "sms",
            &[("content-type", content_type), ("host", &self.host)],
            &payload,
        );
        let mut headers: Vec<(String, String)> = vec![
            ("Content-Type".into(), content_type.into()),
            ("X-TC-Action".into(), action.into()),
            ("X-TC-Version".into(), "2021-01-11".into()),
            ("X-TC-Timestamp".into(), timestamp.to_string()),
            ("X-TC-Region".into(), "ap-guangzhou".into()),
            ("Authorization".into(), authorization),
        ];
        tweak(&mut headers);
        let mut request = reqwest::Client::new()
            .post(format!("{}/", self.app.base))
            .body(payload);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            200,
            "Tencent answers errors with HTTP 200 too"
        );
        response.json().await.unwrap()
    }

    /// A successful call's response fields.
    async fn ok(&self, action: &str, body: &Value) -> Value {
        let answer = self.call(action, body, |_| {}).await;
        assert!(answer["Response"]["Error"].is_null(), "{action}: {answer}");
        answer["Response"].clone()
    }

    async fn error(
        &self,
        action: &str,
        body: &Value,
        tweak: impl FnOnce(&mut Vec<(String, String)>),
    ) -> String {
        let answer = self.call(action, body, tweak).await;
        assert!(answer["Response"]["RequestId"].is_string(), "{answer}");
        answer["Response"]["Error"]["Code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {answer}"))
            .to_owned()
    }
}

/// A request's headers, in the order they are sent.
type Headers = Vec<(String, String)>;
/// What a case changes in a correctly signed request.
type Tweak = Box<dyn FnOnce(&mut Headers)>;

fn set_header(headers: &mut Headers, name: &str, value: Option<&str>) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    if let Some(value) = value {
        headers.push((name.into(), value.into()));
    }
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn requests_are_checked_with_tencents_error_codes(pool: PgPool) {
    let api = api(pool).await;
    let list = json!({ "TemplateIdSet": [api.template], "International": 0 });
    let answer = api.call("DescribeSmsTemplateList", &list, |_| {}).await;
    let set = &answer["Response"]["DescribeTemplateStatusSet"];
    assert_eq!(set.as_array().map(Vec::len), Some(1), "{answer}");
    assert_eq!(set[0]["TemplateId"], api.template);
    assert_eq!(set[0]["StatusCode"], 0);
    let page = api
        .call(
            "DescribeSmsSignList",
            &json!({ "International": 0, "Limit": 10, "Offset": 0 }),
            |_| {},
        )
        .await;
    assert!(
        page["Response"]["DescribeSignListStatusSet"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "{page}"
    );

    let cases: Vec<(&str, Tweak)> = vec![
        (
            "MissingParameter",
            Box::new(|h| set_header(h, "X-TC-Action", None)),
        ),
        (
            "NoSuchVersion",
            Box::new(|h| set_header(h, "X-TC-Version", Some("2019-07-11"))),
        ),
        (
            "AuthFailure.InvalidAuthorization",
            Box::new(|h| set_header(h, "Authorization", Some("Basic abc"))),
        ),
        (
            "AuthFailure.SignatureExpire",
            Box::new(|h| {
                set_header(
                    h,
                    "X-TC-Timestamp",
                    Some(&(chrono::Utc::now().timestamp() - 600).to_string()),
                )
            }),
        ),
        // A signed header changed after signing.
        (
            "AuthFailure.SignatureFailure",
            Box::new(|h| set_header(h, "Content-Type", Some("application/json"))),
        ),
        (
            "InvalidAction",
            Box::new(|h| set_header(h, "X-TC-Action", Some("RebootEverything"))),
        ),
    ];
    for (code, tweak) in cases {
        let action = "DescribeSmsTemplateList";
        assert_eq!(api.error(action, &list, tweak).await, code);
    }
    // The signed host must be the one the request went to.
    let wrong_host = api
        .error("DescribeSmsTemplateList", &list, |h| {
            set_header(h, "Host", Some("evil.example:1"))
        })
        .await;
    assert_eq!(wrong_host, "AuthFailure.SignatureFailure");
    // Unknown and revoked SecretIds, a disabled application.
    let mut stranger = api.clone();
    stranger.secret_id = format!("AKID{}", "x".repeat(32));
    assert_eq!(
        stranger
            .error("DescribeSmsTemplateList", &list, |_| {})
            .await,
        "AuthFailure.SecretIdNotFound"
    );
    stranger.secret_key = "wrong".into();
    stranger.secret_id = api.secret_id.clone();
    assert_eq!(
        stranger
            .error("DescribeSmsTemplateList", &list, |_| {})
            .await,
        "AuthFailure.SignatureFailure"
    );
    assert_eq!(
        api.error("DescribeSmsTemplateList", &json!({}), |_| {})
            .await,
        "MissingParameter"
    );
    assert_eq!(
        api.error(
            "DescribeSmsTemplateList",
            &json!({ "International": 0, "TemplateIdSet": (0..101).collect::<Vec<_>>() }),
            |_| {}
        )
        .await,
        "InvalidParameterValue"
    );
    sqlx::query("UPDATE applications SET enabled = false")
        .execute(&api.app.pool)
        .await
        .unwrap();
    assert_eq!(
        api.error("DescribeSmsTemplateList", &list, |_| {}).await,
        "UnauthorizedOperation.SdkAppIdIsDisabled"
    );
    sqlx::query("UPDATE applications SET enabled = true")
        .execute(&api.app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE api_keys SET revoked_at = now()")
        .execute(&api.app.pool)
        .await
        .unwrap();
    assert_eq!(
        api.error("DescribeSmsTemplateList", &list, |_| {}).await,
        "AuthFailure.SecretIdNotFound"
    );
    let used: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT last_used_at FROM api_keys")
            .fetch_one(&api.app.pool)
            .await
            .unwrap();
    assert!(used.is_some(), "the key's last use is recorded");
}

/// The official SDKs the API is checked through.
#[derive(Debug, Clone, Copy)]
enum Sdk {
    Python,
    Node,
}

impl Api {
    /// Calls `action` through an official SDK, signed with `secret_key`.
    async fn sdk(&self, sdk: Sdk, action: &str, body: &Value, secret_key: &str) -> Value {
        let end2end = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end");
        let (program, script) = match sdk {
            Sdk::Python => (common::sdk_python(), format!("{end2end}/sdk/python_sdk.py")),
            Sdk::Node => ("node".to_owned(), format!("{end2end}/sdk/node_sdk.js")),
        };
        let output = tokio::process::Command::new(&program)
            .arg(&script)
            .arg(action)
            .arg(body.to_string())
            .env("HERALD_ENDPOINT", &self.host)
            .env("SECRET_ID", &self.secret_id)
            .env("SECRET_KEY", secret_key)
            .output()
            .await
            .unwrap_or_else(|e| panic!("{program}: {e} (make test installs the SDKs)"));
        assert!(
            output.status.success(),
            "{sdk:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{sdk:?}: {e}: {}", String::from_utf8_lossy(&output.stdout)))
    }
}

/// A developer's first day, through each official SDK pointed at Herald: list the templates,
/// send, pull the status, submit a template, and get the SDK's own error for a wrong key.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn the_official_sdks_work_against_herald(pool: PgPool) {
    use crate::common::sending::{engine, wait_for};
    let (w, api) = delivering_world(pool).await;
    let key = api.secret_key.clone();
    let _engine = engine(&w, 1);
    for (sdk, phone) in [
        (Sdk::Python, "+8613800000001"),
        (Sdk::Node, "+8613800000002"),
    ] {
        let listed = api
            .sdk(
                sdk,
                "DescribeSmsTemplateList",
                &json!({"TemplateIdSet": [api.template], "International": 0}),
                &key,
            )
            .await;
        let set = &listed["response"]["DescribeTemplateStatusSet"];
        assert_eq!(set[0]["TemplateId"], api.template, "{sdk:?}: {listed}");
        assert_eq!(set[0]["StatusCode"], 0, "{sdk:?}: {listed}");

        let sent = api
            .sdk(sdk, "SendSms", &send_body(&api, &[phone]), &key)
            .await;
        let status = &sent["response"]["SendStatusSet"][0];
        assert_eq!(status["Code"], "Ok", "{sdk:?}: {sent}");
        assert_eq!(status["Fee"], 1, "{sdk:?}: {sent}");
        let serial = status["SerialNo"].as_str().unwrap().to_owned();
        wait_for("the message to be delivered", async || {
            message_states(&api.app.pool, &[&serial]).await == vec![3]
        })
        .await;
        let pulled = api
            .sdk(
                sdk,
                "PullSmsSendStatus",
                &json!({"SmsSdkAppId": "1400000001", "Limit": 10}),
                &key,
            )
            .await;
        let statuses = &pulled["response"]["PullSmsSendStatusSet"];
        assert_eq!(
            statuses[0]["SerialNo"],
            serial.as_str(),
            "{sdk:?}: {pulled}"
        );
        assert_eq!(statuses[0]["ReportStatus"], "SUCCESS", "{sdk:?}: {pulled}");

        let added = api
            .sdk(
                sdk,
                "AddSmsTemplate",
                &json!({"TemplateName": "Login", "TemplateContent": "Your login code is {1}.",
                        "SmsType": 3, "International": 0, "Remark": "login"}),
                &key,
            )
            .await;
        assert!(
            added["response"]["AddTemplateStatus"]["TemplateId"].is_string(),
            "{sdk:?}: {added}"
        );

        let wrong = api
            .sdk(
                sdk,
                "SendSms",
                &send_body(&api, &[phone]),
                "not the right secret key 000000",
            )
            .await;
        assert_eq!(
            wrong["error"], "AuthFailure.SignatureFailure",
            "{sdk:?}: {wrong}"
        );
    }
}

/// Tencent's SendSms body for the catalogue's notification template.
fn send_body(api: &Api, numbers: &[&str]) -> Value {
    json!({
        "SmsSdkAppId": "1400000001",
        "TemplateId": api.template.to_string(),
        "SignName": "Herald",
        "TemplateParamSet": ["Ann", "Acme"],
        "PhoneNumberSet": numbers,
        "SessionContext": "order-42",
    })
}

async fn message_states(pool: &PgPool, serials: &[&str]) -> Vec<i16> {
    let ids: Vec<i64> = serials
        .iter()
        .map(|s| app::dispatch::model::id_from_key(s).expect("a Herald serial"))
        .collect();
    sqlx::query_scalar("SELECT state FROM messages WHERE id = ANY($1) ORDER BY id")
        .bind(&ids)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn send_sms_goes_through_the_engine_and_each_status_is_pulled_once(pool: PgPool) {
    use crate::common::sending::{engine, wait_for};
    let (w, api) = delivering_world(pool).await;
    let answer = api
        .ok(
            "SendSms",
            &send_body(&api, &["13800000001", "+86 139-0000-0002", "12345"]),
        )
        .await;
    let set = answer["SendStatusSet"].as_array().unwrap();
    assert_eq!(set.len(), 3, "one status per number, in order: {answer}");
    for (status, phone) in set[..2].iter().zip(["+8613800000001", "+8613900000002"]) {
        assert_eq!(status["Code"], "Ok", "{answer}");
        assert_eq!(status["PhoneNumber"], phone);
        assert_eq!(status["Fee"], 1);
        assert_eq!(status["IsoCode"], "CN");
        assert_eq!(status["SessionContext"], "order-42");
    }
    assert_eq!(set[2]["Code"], "InvalidParameterValue.IncorrectPhoneNumber");
    assert_eq!(set[2]["Fee"], 0);
    let serials: Vec<&str> = set[..2]
        .iter()
        .map(|s| s["SerialNo"].as_str().unwrap())
        .collect();
    // Recorded before the answer: the engine is not even running yet.
    assert_eq!(message_states(&api.app.pool, &serials).await, vec![0, 0]);

    let _engine = engine(&w, 2);
    wait_for("both messages to be delivered", async || {
        message_states(&api.app.pool, &serials).await == vec![3, 3]
    })
    .await;
    assert_eq!(w.simulator.ledger().accepted, 2);
    assert_eq!(w.simulator.ledger().duplicates, 0);

    let pulled = api
        .ok(
            "PullSmsSendStatus",
            &json!({"SmsSdkAppId": "1400000001", "Limit": 100}),
        )
        .await;
    let statuses = pulled["PullSmsSendStatusSet"].as_array().unwrap();
    assert_eq!(statuses.len(), 2, "{pulled}");
    let mut pulled_serials: Vec<&str> = statuses
        .iter()
        .map(|s| s["SerialNo"].as_str().unwrap())
        .collect();
    pulled_serials.sort();
    let mut sent_serials = serials.clone();
    sent_serials.sort();
    assert_eq!(pulled_serials, sent_serials);
    for s in statuses {
        assert_eq!(s["ReportStatus"], "SUCCESS");
        assert_eq!(s["CountryCode"], "86");
        assert_eq!(s["SessionContext"], "order-42");
        assert!(s["UserReceiveTime"].as_i64().unwrap() > 1_700_000_000);
    }
    let again = api
        .ok(
            "PullSmsSendStatus",
            &json!({"SmsSdkAppId": "1400000001", "Limit": 100}),
        )
        .await;
    assert_eq!(again["PullSmsSendStatusSet"], json!([]), "each status once");

    // A number's history can be looked up as often as wanted.
    let now = chrono::Utc::now().timestamp();
    let lookup = json!({
        "SmsSdkAppId": "1400000001", "PhoneNumber": "+8613800000001",
        "BeginTime": now - 3600, "EndTime": now + 60, "Offset": 0, "Limit": 10,
    });
    for _ in 0..2 {
        let found = api.ok("PullSmsSendStatusByPhoneNumber", &lookup).await;
        let found = found["PullSmsSendStatusSet"].as_array().unwrap().clone();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["SubscriberNumber"], "13800000001");
    }

    // The same content to the same number within 30 s is refused in the answer, costs nothing
    // and never reaches the carrier.
    let repeat = api.ok("SendSms", &send_body(&api, &["13800000001"])).await;
    assert_eq!(
        repeat["SendStatusSet"][0]["Code"],
        "LimitExceeded.PhoneNumberThirtySecondLimit"
    );
    assert_eq!(repeat["SendStatusSet"][0]["Fee"], 0);
    let used: i64 = sqlx::query_scalar("SELECT sum(used)::bigint FROM sms_packages")
        .fetch_one(&api.app.pool)
        .await
        .unwrap();
    assert_eq!(used, 2, "units: one per delivered message");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(w.simulator.ledger().accepted, 2);
    let (requests, submitted): (i64, i64) =
        sqlx::query_as("SELECT sum(requests)::bigint, sum(submitted)::bigint FROM stats_hourly")
            .fetch_one(&api.app.pool)
            .await
            .unwrap();
    assert_eq!((requests, submitted), (3, 2), "statistics count API sends");
    let refused_pulls = api
        .ok(
            "PullSmsSendStatus",
            &json!({"SmsSdkAppId": "1400000001", "Limit": 100}),
        )
        .await;
    assert_eq!(
        refused_pulls["PullSmsSendStatusSet"],
        json!([]),
        "a refusal already in the answer is not pulled again"
    );

    // The statistics actions read the same counters.
    let china_hour = |offset_hours: i64| {
        (chrono::Utc::now() + chrono::Duration::hours(offset_hours))
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%Y%m%d%H")
            .to_string()
    };
    let period = json!({
        "SmsSdkAppId": "1400000001", "BeginTime": china_hour(-1), "EndTime": china_hour(1),
        "Limit": 0, "Offset": 0,
    });
    let sends = api.ok("SendStatusStatistics", &period).await;
    assert_eq!(
        sends["SendStatusStatistics"],
        json!({"FeeCount": 2, "RequestCount": 3, "RequestSuccessCount": 2})
    );
    let callbacks = api.ok("CallbackStatusStatistics", &period).await;
    let callbacks = &callbacks["CallbackStatusStatistics"];
    assert_eq!(callbacks["CallbackSuccessCount"], 2, "{callbacks}");
    assert_eq!(callbacks["CallbackFailCount"], 0, "{callbacks}");
    assert_eq!(callbacks["FrequencyLimitCount"], 1, "{callbacks}");
    let mut too_long = period.clone();
    too_long["BeginTime"] = json!("2020010100");
    assert_eq!(
        api.error("SendStatusStatistics", &too_long, |_| {}).await,
        "InvalidParameterValue"
    );
    let packages = api
        .ok(
            "SmsPackagesStatistics",
            &json!({"SmsSdkAppId": "1400000001", "Limit": 10, "Offset": 0}),
        )
        .await;
    assert_eq!(packages["SmsPackagesStatisticsSet"][0]["CurrentUsage"], 2);
    assert_eq!(packages["SmsPackagesStatisticsSet"][0]["PackageType"], 1);
    let info = api
        .ok(
            "DescribePhoneNumberInfo",
            &json!({"PhoneNumberSet": ["0086 13800000001", "+16502530000", "123"]}),
        )
        .await;
    let info = info["PhoneNumberInfoSet"].as_array().unwrap().clone();
    assert_eq!(info[0]["PhoneNumber"], "+8613800000001");
    assert_eq!(info[0]["NationCode"], "86");
    assert_eq!(info[1]["IsoCode"], "US");
    assert_eq!(info[1]["NationCode"], "1");
    assert_eq!(info[1]["SubscriberNumber"], "6502530000");
    assert_eq!(
        info[2]["Code"],
        "InvalidParameterValue.IncorrectPhoneNumber"
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn send_sms_refuses_bad_requests_as_a_whole_and_records_nothing(pool: PgPool) {
    let api = api(pool).await;
    let pool = api.app.pool.clone();
    let pending: i64 = sqlx::query_scalar(
        "INSERT INTO templates (name, sms_type, content, submitted_by)
         SELECT 'Pending', 2, 'Your order {1} shipped.', id FROM users LIMIT 1 RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO sms_packages (units, package_type) VALUES (1, 1)")
        .execute(&pool)
        .await
        .unwrap();
    let base = send_body(&api, &["13800000001"]);
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    let many: Vec<String> = (0..201).map(|i| format!("138{i:08}")).collect();
    let cases: Vec<(Value, &str)> = vec![
        (
            with("SmsSdkAppId", json!("1400000002")),
            "InvalidParameterValue.SdkAppIdNotExist",
        ),
        (
            with("TemplateId", json!(pending.to_string())),
            "FailedOperation.TemplateIncorrectOrUnapproved",
        ),
        (
            with("TemplateId", json!("999999")),
            "FailedOperation.TemplateIncorrectOrUnapproved",
        ),
        (
            with("SignName", json!("Nobody")),
            "FailedOperation.SignatureIncorrectOrUnapproved",
        ),
        (
            with("SignName", json!("")),
            "FailedOperation.SignatureIncorrectOrUnapproved",
        ),
        (
            with("TemplateParamSet", json!(["Ann"])),
            "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
        ),
        (
            with("TemplateParamSet", json!(["Ann", "www.example.com"])),
            "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
        ),
        (
            with("PhoneNumberSet", json!([])),
            "MissingParameter.EmptyPhoneNumberSet",
        ),
        (
            with("PhoneNumberSet", json!(many)),
            "LimitExceeded.PhoneNumberCountLimit",
        ),
        (
            with("PhoneNumberSet", json!(["13800000001", "+447911123456"])),
            "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
        ),
        (
            with("PhoneNumberSet", json!(["+447911123456"])),
            "UnsupportedOperation.UnsuportedRegion",
        ),
        (
            with("PhoneNumberSet", json!(["13800000001", "13800000002"])),
            "FailedOperation.InsufficientBalanceInSmsPackage",
        ),
        (
            with("SessionContext", json!("x".repeat(512))),
            "InvalidParameterValue",
        ),
        (
            with("PhoneNumberSet", json!("13800000001")),
            "InvalidParameter",
        ),
    ];
    for (body, code) in cases {
        assert_eq!(api.error("SendSms", &body, |_| {}).await, code, "{body}");
    }
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM tasks")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(recorded, 0, "a refused request leaves nothing behind");
    let reserved: i64 = sqlx::query_scalar("SELECT sum(reserved)::bigint FROM sms_packages")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(reserved, 0);

    // Marketing SMS only inside the organisation's hours (China time).
    let china_hour = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%H")
        .to_string()
        .parse::<u32>()
        .unwrap();
    let closed = if china_hour < 12 {
        ("13:00", "14:00")
    } else {
        ("01:00", "02:00")
    };
    sqlx::query(
        "UPDATE organisation SET marketing_window_start = $1::time, marketing_window_end = $2::time",
    )
    .bind(closed.0)
    .bind(closed.1)
    .execute(&pool)
    .await
    .unwrap();
    let marketing: i64 = sqlx::query_scalar("SELECT id FROM templates WHERE sms_type = 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut body = with("TemplateId", json!(marketing.to_string()));
    body["TemplateParamSet"] = json!(["Ann"]);
    assert_eq!(
        api.error("SendSms", &body, |_| {}).await,
        "FailedOperation.MarketingSendTimeConstraint"
    );
    // Marketing SMS, and marketing templates, are for verified organisation accounts only.
    sqlx::query("UPDATE organisation SET verified = false")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        api.error("SendSms", &body, |_| {}).await,
        "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny"
    );
    let template = json!({
        "TemplateName": "Sale", "TemplateContent": "Sale today! Reply R to unsubscribe",
        "SmsType": 1, "International": 0, "Remark": "",
    });
    assert_eq!(
        api.error("AddSmsTemplate", &template, |_| {}).await,
        "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny"
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn templates_added_through_the_api_enter_the_review_queue(pool: PgPool) {
    let api = api(pool).await;
    let add = json!({
        "TemplateName": "Shipping", "TemplateContent": "Your order {1} has shipped.",
        "SmsType": 2, "International": 0, "Remark": "order updates",
    });
    let added = api.ok("AddSmsTemplate", &add).await;
    let id: i64 = added["AddTemplateStatus"]["TemplateId"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let describe = json!({"TemplateIdSet": [id], "International": 0});
    let listed = api.ok("DescribeSmsTemplateList", &describe).await;
    assert_eq!(
        listed["DescribeTemplateStatusSet"][0]["StatusCode"], 1,
        "under review"
    );
    let (status, submitter): (String, i64) =
        sqlx::query_as("SELECT status, submitted_by FROM templates WHERE id = $1")
            .bind(id)
            .fetch_one(&api.app.pool)
            .await
            .unwrap();
    assert_eq!(status, "pending");
    assert_eq!(submitter, api.app.user_id(common::ADMIN_EMAIL).await);

    let mut modify = add.clone();
    modify["TemplateId"] = json!(id);
    modify["TemplateContent"] = json!("Order {1} left our warehouse.");
    let modified = api.ok("ModifySmsTemplate", &modify).await;
    assert_eq!(modified["ModifyTemplateStatus"]["TemplateId"], id);
    let listed = api.ok("DescribeSmsTemplateList", &describe).await;
    assert_eq!(
        listed["DescribeTemplateStatusSet"][0]["TemplateContent"],
        "Order {1} left our warehouse."
    );

    let mut bad = add.clone();
    bad["TemplateContent"] = json!("Gap {1} then {3}");
    let answer = api.call("AddSmsTemplate", &bad, |_| {}).await;
    assert_eq!(answer["Response"]["Error"]["Code"], "InvalidParameterValue");
    assert!(
        answer["Response"]["Error"]["Message"]
            .as_str()
            .unwrap()
            .starts_with("TemplateContent: "),
        "{answer}"
    );
    // The API speaks English whatever language the caller's client asks for.
    let asked_in_chinese = api
        .call("AddSmsTemplate", &bad, |headers| {
            headers.push(("Accept-Language".into(), "zh-CN,zh;q=0.9".into()));
            headers.push(("Cookie".into(), "i18n_pref_locale=zh-CN".into()));
        })
        .await;
    assert_eq!(
        asked_in_chinese["Response"]["Error"]["Message"],
        answer["Response"]["Error"]["Message"]
    );
    bad["TemplateContent"] = add["TemplateContent"].clone();
    bad["SmsType"] = json!(9);
    assert_eq!(
        api.error("AddSmsTemplate", &bad, |_| {}).await,
        "InvalidParameterValue"
    );

    // What was made in the console is changed in the console, not with an application's key.
    let mut console_made = modify.clone();
    console_made["TemplateId"] = json!(api.template);
    assert_eq!(
        api.error("ModifySmsTemplate", &console_made, |_| {}).await,
        "UnauthorizedOperation.RequestPermissionDeny"
    );
    sqlx::query("UPDATE templates SET status = 'approved' WHERE id = $1")
        .bind(id)
        .execute(&api.app.pool)
        .await
        .unwrap();
    assert_eq!(
        api.error("ModifySmsTemplate", &modify, |_| {}).await,
        "FailedOperation.TemplateAlreadyPassedCheck"
    );

    let deleted = api
        .ok("DeleteSmsTemplate", &json!({"TemplateId": id}))
        .await;
    assert_eq!(
        deleted["DeleteTemplateStatus"]["DeleteStatus"],
        "return successfully"
    );
    let listed = api.ok("DescribeSmsTemplateList", &describe).await;
    assert_eq!(listed["DescribeTemplateStatusSet"], json!([]));
    assert_eq!(
        api.error("DeleteSmsTemplate", &json!({"TemplateId": id}), |_| {})
            .await,
        "FailedOperation.MissingTemplateToModify"
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE object_type = 'template' AND details ? 'api_key_id'",
    )
    .fetch_one(&api.app.pool)
    .await
    .unwrap();
    assert_eq!(
        audited, 3,
        "add, modify and delete are audited with the key"
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn signatures_added_through_the_api_enter_the_review_queue(pool: PgPool) {
    use base64::Engine as _;
    let api = api(pool).await;
    let png =
        base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\nproof of the business");
    let add = json!({
        "SignName": "艾克米商城", "SignType": 0, "DocumentType": 0, "International": 0,
        "SignPurpose": 0, "ProofImage": png, "Remark": "our shop",
    });
    let documents_before: i64 = sqlx::query_scalar("SELECT count(*) FROM documents")
        .fetch_one(&api.app.pool)
        .await
        .unwrap();
    let added = api.ok("AddSmsSign", &add).await;
    let id = added["AddSignStatus"]["SignId"].as_i64().unwrap();
    let describe = json!({"SignIdSet": [id], "International": 0});
    let listed = api.ok("DescribeSmsSignList", &describe).await;
    assert_eq!(
        listed["DescribeSignListStatusSet"][0]["StatusCode"], 1,
        "under review"
    );
    assert_eq!(
        listed["DescribeSignListStatusSet"][0]["SignName"],
        "艾克米商城"
    );
    let documents: i64 = sqlx::query_scalar("SELECT count(*) FROM documents")
        .fetch_one(&api.app.pool)
        .await
        .unwrap();
    assert_eq!(
        documents,
        documents_before + 1,
        "the proof is stored with it"
    );

    let refused = |field: &str, value: Value| {
        let mut body = add.clone();
        body[field] = value;
        body
    };
    for (body, mentions) in [
        (
            refused(
                "ProofImage",
                json!(base64::engine::general_purpose::STANDARD.encode(b"plain text")),
            ),
            "ProofImage: ",
        ),
        (
            refused("ProofImage", json!("%%% not base64")),
            "ProofImage is not base64",
        ),
        (refused("SignPurpose", json!(1)), "CommissionImage: "),
        (refused("SignName", json!("Herald")), "SignName: "),
        (refused("SignName", json!("X")), "SignName: "),
    ] {
        let answer = api.call("AddSmsSign", &body, |_| {}).await;
        assert_eq!(
            answer["Response"]["Error"]["Code"], "InvalidParameterValue",
            "{answer}"
        );
        let message = answer["Response"]["Error"]["Message"].as_str().unwrap();
        assert!(message.contains(mentions), "{mentions}: {message}");
    }
    let documents_after: i64 = sqlx::query_scalar("SELECT count(*) FROM documents")
        .fetch_one(&api.app.pool)
        .await
        .unwrap();
    assert_eq!(
        documents_after, documents,
        "a refused request stores no document"
    );

    let mut modify = add.clone();
    modify["SignId"] = json!(id);
    modify["SignName"] = json!("艾克米商店");
    api.ok("ModifySmsSign", &modify).await;
    let listed = api.ok("DescribeSmsSignList", &describe).await;
    assert_eq!(
        listed["DescribeSignListStatusSet"][0]["SignName"],
        "艾克米商店"
    );
    // What was made in the console is changed in the console, not with an application's key.
    let console_made: i64 =
        sqlx::query_scalar("SELECT id FROM signatures WHERE status = 'approved'")
            .fetch_one(&api.app.pool)
            .await
            .unwrap();
    let mut theirs = modify.clone();
    theirs["SignId"] = json!(console_made);
    assert_eq!(
        api.error("ModifySmsSign", &theirs, |_| {}).await,
        "UnauthorizedOperation.RequestPermissionDeny"
    );
    assert_eq!(
        api.error("DeleteSmsSign", &json!({"SignId": console_made}), |_| {})
            .await,
        "UnauthorizedOperation.RequestPermissionDeny"
    );
    sqlx::query("UPDATE signatures SET status = 'approved' WHERE id = $1")
        .bind(id)
        .execute(&api.app.pool)
        .await
        .unwrap();
    modify["SignName"] = json!("Another");
    assert_eq!(
        api.error("ModifySmsSign", &modify, |_| {}).await,
        "FailedOperation.SignAlreadyPassedCheck"
    );

    let deleted = api.ok("DeleteSmsSign", &json!({"SignId": id})).await;
    assert_eq!(
        deleted["DeleteSignStatus"]["DeleteStatus"],
        "return successfully"
    );
    assert_eq!(
        api.error("DeleteSmsSign", &json!({"SignId": id}), |_| {})
            .await,
        "FailedOperation.MissingSignatureToModify"
    );
}

/// A SendSms refused after its numbers were counted (the last units went to someone else while
/// it waited for them) leaves the numbers' frequency limits as they were.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_refused_send_does_not_use_up_its_numbers_limits(pool: PgPool) {
    let api = api(pool).await;
    let pool = api.app.pool.clone();
    sqlx::query("UPDATE applications SET frequency_rules = '{\"per_day\": 1}'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO sms_packages (units, package_type) VALUES (10, 1)")
        .execute(&pool)
        .await
        .unwrap();
    let body = send_body(&api, &["+8613800000061"]);
    // The packages are free when the request checks them, then held by this transaction, which
    // spends them before letting the request have them.
    let mut holder = pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM sms_packages FOR UPDATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let request = api.call("SendSms", &body, |_| {});
    tokio::pin!(request);
    let waiting = common::sending::wait_for("the request to wait for the packages", async || {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
              WHERE wait_event_type = 'Lock' AND datname = current_database()",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        waiting > 0
    });
    tokio::select! {
        answer = &mut request => panic!("answered without waiting for the packages: {answer}"),
        () = waiting => {}
    }
    sqlx::query("UPDATE sms_packages SET used = units - reserved")
        .execute(&mut *holder)
        .await
        .unwrap();
    holder.commit().await.unwrap();
    let answer = request.await;
    assert_eq!(
        answer["Response"]["Error"]["Code"], "FailedOperation.InsufficientBalanceInSmsPackage",
        "{answer}"
    );
    sqlx::query("UPDATE sms_packages SET used = 0")
        .execute(&pool)
        .await
        .unwrap();
    let sent = api.ok("SendSms", &body).await;
    assert_eq!(sent["SendStatusSet"][0]["Code"], "Ok", "{sent}");
}
