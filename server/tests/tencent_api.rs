//! The Tencent Cloud SMS API: every check a request goes through, with Tencent's error codes,
//! and a call through the official Python SDK (tencentcloud-sdk-python) pointed at Herald.

mod common;

use common::catalogue::catalogue;
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

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn the_official_python_sdk_works_against_herald(pool: PgPool) {
    let api = api(pool).await;
    let python = std::env::var("HERALD_SDK_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/herald/tools/sdk-python/bin/python",
            std::env::var("HOME").unwrap()
        )
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/sdk/python_sdk.py");
    let output = tokio::process::Command::new(&python)
        .arg(script)
        .env("HERALD_ENDPOINT", &api.host)
        .env("SECRET_ID", &api.secret_id)
        .env("SECRET_KEY", &api.secret_key)
        .env("TEMPLATE_ID", api.template.to_string())
        .output()
        .await
        .unwrap_or_else(|e| panic!("{python}: {e} (make test installs the SDK)"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    let set = &out["describe"]["DescribeTemplateStatusSet"];
    assert_eq!(set[0]["TemplateId"], api.template, "{out}");
    assert_eq!(set[0]["StatusCode"], 0, "{out}");
    assert_eq!(out["wrong_key"], "AuthFailure.SignatureFailure", "{out}");
}
