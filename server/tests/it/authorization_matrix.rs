//! Every door of the console, with who may knock: each server function and each console route is
//! a row, called by a stranger and by a user of each single role; each Tencent API action is a
//! row, called with a valid key, a revoked one, an unknown one and a disabled application's. A
//! server function or an action of the official SDK answered without a row fails the matrix, so
//! none goes in unchecked. What an object's owner may do that another may not (another
//! marketer's task, another application's template, another carrier's receipt) is in
//! `authorization`.
//!
//! Allowed callers are asked with ids that name nothing and values that fail validation, so
//! nothing changes while the matrix runs; what is checked is only that they get past the door
//! (not 401 or 403) and that the server does not fail (no 5xx).

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};

use crate::authorization::{key_for, tencent};
use crate::common::sending::world;
use crate::common::{self, browser, TestApp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Admin,
    Operator,
    Marketer,
}

const ROLES: [Role; 3] = [Role::Admin, Role::Operator, Role::Marketer];

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Marketer => "marketer",
        }
    }
}

/// Who a door lets in.
#[derive(Debug, Clone, Copy)]
enum Door {
    /// Anyone, signed in or not (sign-in, first-run set-up, the session's state).
    Public,
    /// Any signed-in user.
    SignedIn,
    /// Users holding one of these roles.
    Roles(&'static [Role]),
}

const ADMIN: Door = Door::Roles(&[Role::Admin]);
const OPERATOR: Door = Door::Roles(&[Role::Operator]);
const MARKETER: Door = Door::Roles(&[Role::Marketer]);
const OPERATOR_OR_ADMIN: Door = Door::Roles(&[Role::Operator, Role::Admin]);
const OPERATOR_OR_MARKETER: Door = Door::Roles(&[Role::Operator, Role::Marketer]);
const ANY_ROLE: Door = Door::Roles(&[Role::Admin, Role::Operator, Role::Marketer]);

/// An id no row has.
const NOBODY: &str = "987654321";

/// A form's fields, as a server function reads them.
type Form = &'static [(&'static str, &'static str)];

/// Server functions: endpoint, form fields, door.
const SERVER_FUNCTIONS: &[(&str, Form, Door)] = &[
    // Accounts and the session.
    ("get_session", &[], Door::Public),
    (
        "set_up",
        &[
            ("org_name", ""),
            ("account_type", ""),
            ("email", ""),
            ("display_name", ""),
            ("password", ""),
            ("password_confirm", ""),
        ],
        Door::Public,
    ),
    ("log_in", &[("email", ""), ("password", "")], Door::Public),
    ("log_out", &[], Door::Public),
    ("remember_language", &[("locale", "en")], Door::Public),
    (
        "change_password",
        &[
            ("current_password", ""),
            ("password", "a"),
            ("password_confirm", "b"),
        ],
        Door::SignedIn,
    ),
    ("unread_notifications", &[], Door::SignedIn),
    ("list_notifications", &[], Door::SignedIn),
    ("mark_notifications_read", &[], Door::SignedIn),
    ("get_dashboard", &[], Door::SignedIn),
    ("api_reference", &[], Door::SignedIn),
    ("list_users", &[], ADMIN),
    (
        "create_user",
        &[("email", ""), ("display_name", ""), ("password", "")],
        ADMIN,
    ),
    ("update_user_roles", &[("user_id", NOBODY)], ADMIN),
    (
        "set_user_disabled",
        &[("user_id", NOBODY), ("disabled", "true")],
        ADMIN,
    ),
    ("reset_user_password", &[("user_id", NOBODY)], ADMIN),
    ("get_organisation", &[], ADMIN),
    (
        "update_organisation",
        &[("org_name", ""), ("account_type", "")],
        ADMIN,
    ),
    // Alarms and webhooks.
    ("list_alarm_contacts", &[], ADMIN),
    (
        "add_alarm_contact",
        &[
            ("name", ""),
            ("email", ""),
            ("phone", ""),
            ("webhook_url", ""),
        ],
        ADMIN,
    ),
    ("delete_alarm_contact", &[("id", NOBODY)], ADMIN),
    ("redeliver_webhook", &[("id", NOBODY)], ADMIN),
    ("set_balance_alert", &[("balance_low_units", "x")], ADMIN),
    (
        "set_alert_sms",
        &[
            ("sms_application_id", NOBODY),
            ("sms_template_id", NOBODY),
            ("sms_signature_id", NOBODY),
        ],
        ADMIN,
    ),
    // Applications, keys, frequency limits, verification.
    ("list_applications", &[], OPERATOR),
    ("get_application", &[("id", NOBODY)], OPERATOR),
    (
        "create_application",
        &[("name", ""), ("callback_url", ""), ("description", "")],
        OPERATOR,
    ),
    (
        "update_application",
        &[
            ("id", NOBODY),
            ("name", ""),
            ("callback_url", ""),
            ("description", ""),
        ],
        OPERATOR,
    ),
    ("set_application_carrier", &[("id", NOBODY)], OPERATOR),
    ("list_api_keys", &[("application_id", NOBODY)], OPERATOR),
    ("create_api_key", &[("application_id", NOBODY)], OPERATOR),
    (
        "take_fresh_api_key",
        &[("application_id", NOBODY)],
        OPERATOR,
    ),
    (
        "revoke_api_key",
        &[("application_id", NOBODY), ("key_id", NOBODY)],
        OPERATOR,
    ),
    (
        "get_frequency_rules",
        &[("application_id", NOBODY)],
        OPERATOR_OR_ADMIN,
    ),
    ("list_frequency_rules", &[], ADMIN),
    (
        "save_frequency_rules",
        &[
            ("application_id", NOBODY),
            ("same_content_seconds", "x"),
            ("per_hour", "x"),
            ("per_day", "x"),
            ("app_per_day", "x"),
        ],
        ADMIN,
    ),
    ("get_verify_setup", &[("application_id", NOBODY)], OPERATOR),
    (
        "save_verify_settings",
        &[
            ("application_id", NOBODY),
            ("validity_minutes", "x"),
            ("per_ip_hourly", "x"),
            ("per_prefix_hourly", "x"),
        ],
        OPERATOR,
    ),
    ("new_verify_key", &[("application_id", NOBODY)], OPERATOR),
    (
        "demo_get_sms",
        &[("application_id", NOBODY), ("phone", "")],
        OPERATOR,
    ),
    (
        "demo_login",
        &[("application_id", NOBODY), ("phone", "")],
        OPERATOR,
    ),
    ("recent_codes", &[("application_id", NOBODY)], OPERATOR),
    // Audit, balance, carriers.
    ("list_audit", &[], ADMIN),
    ("get_balance", &[], ADMIN),
    (
        "add_sms_package",
        &[
            ("units", "x"),
            ("package_type", ""),
            ("expires_on", ""),
            ("note", ""),
        ],
        ADMIN,
    ),
    ("list_carriers", &[], ANY_ROLE),
    (
        "add_http_carrier",
        &[
            ("name", ""),
            ("endpoint", ""),
            ("secret", ""),
            ("rate_limit", "x"),
            ("concurrency", "x"),
        ],
        ADMIN,
    ),
    (
        "add_tencent_carrier",
        &[
            ("name", ""),
            ("endpoint", ""),
            ("region", ""),
            ("secret_id", ""),
            ("secret_key", ""),
            ("sdk_app_id", ""),
            ("reconcile_minutes", "x"),
            ("rate_limit", "x"),
            ("concurrency", "x"),
        ],
        ADMIN,
    ),
    (
        "update_simulator",
        &[
            ("id", NOBODY),
            ("latency_ms", "x"),
            ("accept_rate", "x"),
            ("delivery_rate", "x"),
            ("transient_rate", "x"),
            ("receipt_delay_ms", "x"),
            ("rate_limit", "x"),
            ("concurrency", "x"),
        ],
        ADMIN,
    ),
    ("set_default_carrier", &[("id", NOBODY)], ADMIN),
    (
        "set_carrier_failover",
        &[("id", NOBODY), ("failover_after", "x")],
        ADMIN,
    ),
    // Campaigns, records, analytics.
    ("get_bulk_options", &[], MARKETER),
    ("get_upload_report", &[("id", NOBODY)], MARKETER),
    (
        "check_send_time",
        &[("upload_id", NOBODY), ("send_at", ""), ("time_zone", "")],
        MARKETER,
    ),
    (
        "create_task",
        &[
            ("upload_id", NOBODY),
            ("name", ""),
            ("send_mode", ""),
            ("time_zone", ""),
        ],
        MARKETER,
    ),
    ("list_tasks", &[], MARKETER),
    ("get_task_detail", &[("id", NOBODY)], MARKETER),
    (
        "change_task",
        &[("id", NOBODY), ("action", "pause")],
        MARKETER,
    ),
    ("get_task_progress", &[("id", NOBODY)], MARKETER),
    ("list_task_messages", &[("task_id", NOBODY)], MARKETER),
    ("get_task_analytics", &[("id", NOBODY)], MARKETER),
    ("get_marketing_window", &[], ADMIN),
    (
        "update_marketing_window",
        &[("start", ""), ("end", "")],
        ADMIN,
    ),
    ("get_statistics", &[], OPERATOR_OR_MARKETER),
    ("get_statistics_choices", &[], OPERATOR_OR_MARKETER),
    // Opt-outs.
    ("list_opt_outs", &[], ADMIN),
    ("add_opt_out", &[("phone", ""), ("note", "")], ADMIN),
    ("remove_opt_out", &[("phone", "")], ADMIN),
    // Signatures, templates, review.
    ("review_queue", &[], ADMIN),
    (
        "approve_submission",
        &[("subject", "template"), ("id", NOBODY)],
        ADMIN,
    ),
    (
        "reject_submission",
        &[("subject", "template"), ("id", NOBODY), ("reason", "")],
        ADMIN,
    ),
    ("list_signatures", &[], OPERATOR),
    ("get_signature", &[("id", NOBODY)], OPERATOR_OR_ADMIN),
    (
        "create_signature",
        &[
            ("purpose", ""),
            ("sign_type", ""),
            ("document_type", ""),
            ("content", ""),
            ("remark", ""),
            ("certificate_id", ""),
            ("authorisation_id", ""),
        ],
        OPERATOR,
    ),
    (
        "update_signature",
        &[
            ("id", NOBODY),
            ("purpose", ""),
            ("sign_type", ""),
            ("document_type", ""),
            ("content", ""),
            ("remark", ""),
            ("certificate_id", ""),
            ("authorisation_id", ""),
        ],
        OPERATOR,
    ),
    ("delete_signature", &[("id", NOBODY)], OPERATOR),
    ("list_templates", &[], OPERATOR),
    ("get_template", &[("id", NOBODY)], OPERATOR_OR_ADMIN),
    ("template_editor_data", &[], OPERATOR),
    (
        "create_template",
        &[
            ("name", ""),
            ("sms_type", ""),
            ("content", ""),
            ("remark", ""),
        ],
        OPERATOR,
    ),
    (
        "update_template",
        &[
            ("id", NOBODY),
            ("name", ""),
            ("sms_type", ""),
            ("content", ""),
            ("remark", ""),
        ],
        OPERATOR,
    ),
    ("delete_template", &[("id", NOBODY)], OPERATOR),
    ("get_unsubscribe_phrases", &[], ADMIN),
    ("update_unsubscribe_phrases", &[("phrases", "")], ADMIN),
];

/// The console's plain HTTP doors (uploads, downloads): method, path, door.
const ROUTES: &[(Method, &str, Door)] = &[
    (Method::POST, "/documents", OPERATOR),
    (Method::GET, "/documents/987654321", OPERATOR_OR_ADMIN),
    (Method::POST, "/bulk/uploads", MARKETER),
    (
        Method::GET,
        "/bulk/uploads/987654321/rejected.csv",
        MARKETER,
    ),
    (
        Method::GET,
        "/bulk/standard/987654321.csv",
        OPERATOR_OR_MARKETER,
    ),
    (Method::GET, "/records/987654321/messages.csv", MARKETER),
    (Method::GET, "/statistics.csv", OPERATOR_OR_MARKETER),
    (Method::POST, "/opt-outs/import", ADMIN),
];

/// The clients the matrix knocks with: a stranger, then one user per role.
struct Callers {
    stranger: reqwest::Client,
    by_role: Vec<(Role, reqwest::Client)>,
}

async fn callers(app: &TestApp) -> Callers {
    let admin = app.set_up().await;
    let mut by_role = Vec::new();
    for role in ROLES {
        let email = format!("only-{}@example.com", role.name());
        let password = "matrix password 1";
        app.create_user(&admin, &email, password, &[role.name()])
            .await;
        let (client, status, body) = app.log_in(&email, password).await;
        assert!(status.is_success(), "sign-in of {email}: {status} {body}");
        by_role.push((role, client));
    }
    Callers {
        stranger: browser(),
        by_role,
    }
}

/// What is wrong with `status` as `door`'s answer to a caller with `role` (`None`: a stranger).
fn judge(door: Door, role: Option<Role>, status: StatusCode) -> Option<String> {
    let who = role.map_or("a stranger", Role::name);
    if status.is_server_error() {
        return Some(format!("{who} -> {status}"));
    }
    let refusal = match (door, role) {
        // Anyone may knock; what it answers then (a wrong password, say) is its own business.
        (Door::Public, _) => return None,
        (_, None) => Some(StatusCode::UNAUTHORIZED),
        (Door::SignedIn, Some(_)) => None,
        (Door::Roles(roles), Some(role)) => {
            (!roles.contains(&role)).then_some(StatusCode::FORBIDDEN)
        }
    };
    match refusal {
        Some(expected) if status != expected => {
            Some(format!("{who} -> {status}, expected {expected}"))
        }
        None if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
            Some(format!("{who} refused ({status}) though allowed"))
        }
        _ => None,
    }
}

#[test]
fn every_server_function_is_a_row() {
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_owned())
        .collect();
    let rows: BTreeSet<String> = SERVER_FUNCTIONS
        .iter()
        .map(|(name, _, _)| (*name).to_owned())
        .collect();
    assert_eq!(
        registered.difference(&rows).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "server functions without a row in the authorization matrix"
    );
    assert_eq!(
        rows.difference(&registered).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "rows naming no server function"
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn every_door_lets_in_only_whom_it_should(pool: sqlx::PgPool) {
    let app = common::spawn(pool).await;
    let callers = callers(&app).await;
    let mut problems = Vec::new();
    for &(function, form, door) in SERVER_FUNCTIONS {
        let (status, _) = app.call(&callers.stranger, function, form).await;
        problems.extend(judge(door, None, status).map(|p| format!("{function}: {p}")));
        // Signing out would end the session the rest of the matrix needs.
        if function == "log_out" {
            continue;
        }
        for (role, client) in &callers.by_role {
            let (status, body) = app.call(client, function, form).await;
            problems.extend(
                judge(door, Some(*role), status).map(|p| format!("{function}: {p} {body}")),
            );
        }
    }
    for (method, path, door) in ROUTES {
        let ask = async |client: &reqwest::Client| {
            let response = client
                .request(method.clone(), format!("{}{path}", app.base))
                .header("Accept", "application/json")
                .send()
                .await
                .unwrap();
            // A plain form post of a stranger is sent to sign in: the browser's 401.
            let to_sign_in = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .is_some_and(|l| l.starts_with("/login"));
            if response.status() == StatusCode::SEE_OTHER && to_sign_in {
                StatusCode::UNAUTHORIZED
            } else {
                response.status()
            }
        };
        let status = ask(&callers.stranger).await;
        problems.extend(judge(*door, None, status).map(|p| format!("{method} {path}: {p}")));
        for (role, client) in &callers.by_role {
            let status = ask(client).await;
            problems
                .extend(judge(*door, Some(*role), status).map(|p| format!("{method} {path}: {p}")));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The Tencent API actions Herald answers; each needs a valid key of an enabled application.
/// What they touch is the key's application's own: its sends and statuses, its statistics, and
/// the templates and signatures it submitted (see `authorization`).
const API_ACTIONS: &[&str] = &[
    "SendSms",
    "PullSmsSendStatus",
    "PullSmsSendStatusByPhoneNumber",
    "SendStatusStatistics",
    "CallbackStatusStatistics",
    "SmsPackagesStatistics",
    "DescribePhoneNumberInfo",
    "DescribeSmsTemplateList",
    "AddSmsTemplate",
    "ModifySmsTemplate",
    "DeleteSmsTemplate",
    "DescribeSmsSignList",
    "AddSmsSign",
    "ModifySmsSign",
    "DeleteSmsSign",
];

/// The SMS actions of API 2021-01-11, as the official Python SDK's client declares them.
fn sdk_actions() -> Vec<String> {
    let python = common::sdk_python();
    let listed = std::process::Command::new(&python)
        .args([
            "-c",
            "import inspect\n\
             from tencentcloud.sms.v20210111.sms_client import SmsClient\n\
             print('\\n'.join(n for n, _ in inspect.getmembers(SmsClient, inspect.isfunction) \
             if n[:1].isupper()))",
        ])
        .output()
        .unwrap_or_else(|e| panic!("{python} (make test installs the SDK): {e}"));
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    String::from_utf8(listed.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn every_api_action_answers_only_a_valid_key(pool: sqlx::PgPool) {
    let w = world(pool, app::carriers::model::SimulatorSettings::default()).await;
    let valid = key_for(&w, w.catalogue.application).await;
    let revoked = key_for(&w, w.catalogue.application).await;
    sqlx::query("UPDATE api_keys SET revoked_at = now() WHERE secret_id = $1")
        .bind(&revoked.secret_id)
        .execute(&w.app.pool)
        .await
        .unwrap();
    let unknown = app::apps::model::NewKeyPair {
        secret_id: format!("AKID{}", "x".repeat(32)),
        ..valid.clone()
    };
    let disabled_application: i64 = sqlx::query_scalar(
        "INSERT INTO applications (sdk_app_id, name, enabled) VALUES (1400000009, 'Old', false)
         RETURNING id",
    )
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    let disabled = key_for(&w, disabled_application).await;

    let sdk = sdk_actions();
    assert!(
        sdk.iter().any(|a| a == "SendSms") && sdk.len() > API_ACTIONS.len(),
        "the SDK's actions: {sdk:?}"
    );
    let mut actions: BTreeSet<&str> = sdk.iter().map(String::as_str).collect();
    actions.extend(API_ACTIONS);
    let mut problems = Vec::new();
    for action in actions {
        let code = async |key| {
            let answer = tencent(&w, key, action, &serde_json::json!({})).await;
            answer["Error"]["Code"].as_str().unwrap_or("").to_owned()
        };
        let answered = code(&valid).await;
        if !API_ACTIONS.contains(&action) {
            if answered != "InvalidAction" {
                problems.push(format!("{action} answers ({answered}) but has no row"));
            }
            continue;
        }
        if answered == "InvalidAction"
            || answered.starts_with("AuthFailure")
            || answered.starts_with("UnauthorizedOperation")
        {
            problems.push(format!("{action}: a valid key -> {answered}"));
        }
        for (who, key, expected) in [
            ("a revoked key", &revoked, "AuthFailure."),
            ("an unknown key", &unknown, "AuthFailure."),
            (
                "a disabled application's key",
                &disabled,
                "UnauthorizedOperation.SdkAppIdIsDisabled",
            ),
        ] {
            let answered = code(key).await;
            if !answered.starts_with(expected) {
                problems.push(format!("{action}: {who} -> {answered:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Arguments that cannot be read are the caller's mistake: 400 with the reason, not a server
/// failure.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_malformed_request_is_400(pool: sqlx::PgPool) {
    let app = common::spawn(pool).await;
    let admin = app.set_up().await;
    for (function, form) in [
        ("get_task_detail", &[("id", "not a number")][..]),
        ("revoke_api_key", &[("application_id", "1")][..]),
    ] {
        let (status, body) = app.call(&admin, function, form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{function}: {body}");
        assert!(body.get("BadRequest").is_some(), "{function}: {body}");
    }
}
