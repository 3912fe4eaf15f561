use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::model::{VerifyReply, VerifySettings};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use {
    super::model::MAX_VALIDITY_MINUTES,
    super::repo,
    crate::accounts::model::Role,
    crate::audit::repo::{record, AuditEvent},
    crate::error::FieldErrors,
    crate::review::model::ReviewStatus,
    crate::state::{serve, Caller},
    crate::templates::model::{SmsType, TemplateContent},
    serde_json::json,
};

/// The settings form's choices: approved verification templates and approved signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifySetup {
    pub settings: VerifySettings,
    pub templates: Vec<(i64, String)>,
    pub signatures: Vec<(i64, String)>,
}

/// A verification code as it went out, for the demo's message log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentCode {
    pub phone: String,
    pub text: String,
    /// `None`: a state this version does not know.
    pub state: Option<crate::dispatch::model::MessageState>,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[server(endpoint = "get_verify_setup")]
pub async fn get_verify_setup(application_id: i64) -> Result<VerifySetup, AppError> {
    serve(|caller| async move {
        caller.require(Role::Operator).await?;
        let pool = caller.pool();
        let settings = repo::for_application(pool, application_id).await?;
        let templates = crate::templates::repo::list(pool)
            .await?
            .into_iter()
            .filter(usable_template)
            .map(|t| (t.id, format!("{} ({}): {}", t.name, t.id, t.content)))
            .collect();
        let signatures = crate::signatures::repo::approved_choices(pool).await?;
        Ok(VerifySetup {
            settings,
            templates,
            signatures,
        })
    })
    .await
}

/// An approved verification template whose `{1}` takes the code (and `{2}`, if any, the
/// minutes it is valid).
#[cfg(feature = "ssr")]
fn usable_template(t: &crate::templates::model::Template) -> bool {
    t.status == ReviewStatus::Approved
        && t.sms_type == SmsType::Verification
        && (1..=2).contains(&TemplateContent::from_stored(t.content.clone()).param_count())
}

#[server(endpoint = "save_verify_settings")]
pub async fn save_verify_settings(
    application_id: i64,
    #[server(default)] template_id: String,
    #[server(default)] signature_id: String,
    validity_minutes: String,
    per_ip_hourly: String,
    per_prefix_hourly: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Operator).await?;
        let pool = caller.pool();
        let mut settings = repo::for_application(pool, application_id).await?;
        let mut errors = FieldErrors::default();
        let chosen = |field: &str, raw: &str| match raw.trim() {
            "" => Ok(None),
            raw => raw
                .parse::<i64>()
                .map(Some)
                .map_err(|_| AppError::field(field, crate::tr!(verify.errors.choose_from_list))),
        };
        let template = errors.check(chosen("template_id", &template_id)).flatten();
        if let Some(id) = template {
            let usable = crate::templates::repo::get(pool, id)
                .await
                .is_ok_and(|t| usable_template(&t));
            if !usable {
                errors.check::<()>(Err(AppError::field(
                    "template_id",
                    crate::tr!(verify.errors.choose_template),
                )));
            }
        }
        let signature = errors
            .check(chosen("signature_id", &signature_id))
            .flatten();
        if let Some(id) = signature {
            let approved = crate::signatures::repo::get(pool, id)
                .await
                .is_ok_and(|s| s.status == ReviewStatus::Approved);
            if !approved {
                errors.check::<()>(Err(AppError::field(
                    "signature_id",
                    crate::tr!(verify.errors.choose_signature),
                )));
            }
        }
        let number = |field: &str, raw: &str, range: std::ops::RangeInclusive<i32>| {
            raw.trim()
                .parse::<i32>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    AppError::field(
                        field,
                        crate::tr!(
                            verify.errors.whole_number,
                            min = *range.start(),
                            max = *range.end()
                        ),
                    )
                })
        };
        let validity = errors.check(number(
            "validity_minutes",
            &validity_minutes,
            1..=MAX_VALIDITY_MINUTES,
        ));
        let per_ip = errors.check(number("per_ip_hourly", &per_ip_hourly, 0..=100_000));
        let per_prefix = errors.check(number("per_prefix_hourly", &per_prefix_hourly, 0..=100_000));
        let (validity, per_ip, per_prefix) =
            errors.finish((|| Some((validity?, per_ip?, per_prefix?)))())?;
        settings.template_id = template;
        settings.signature_id = signature;
        settings.validity_minutes = validity;
        settings.per_ip_hourly = per_ip;
        settings.per_prefix_hourly = per_prefix;
        repo::save(pool, &settings).await?;
        caller.state.verify_keys.forget_all();
        record(
            pool,
            AuditEvent::by(
                &user,
                &caller.ip,
                "application.verify_settings",
                "application",
                application_id,
                json!({
                    "template_id": template, "signature_id": signature,
                    "validity_minutes": validity, "per_ip_hourly": per_ip,
                    "per_prefix_hourly": per_prefix,
                }),
            ),
        )
        .await?;
        Ok(())
    })
    .await
}

/// Replaces the application's public key; pages using the old one stop working.
#[server(endpoint = "new_verify_key")]
pub async fn new_verify_key(application_id: i64) -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Operator).await?;
        repo::new_key(caller.pool(), application_id).await?;
        caller.state.verify_keys.forget_all();
        record(
            caller.pool(),
            AuditEvent::by(
                &user,
                &caller.ip,
                "application.verify_key",
                "application",
                application_id,
                json!({}),
            ),
        )
        .await?;
        Ok(())
    })
    .await
}

/// The demo: the same requests a login page makes, with this application's public key.
#[cfg(feature = "ssr")]
async fn demo(
    caller: &Caller,
    application_id: i64,
    body: serde_json::Value,
) -> Result<VerifyReply, AppError> {
    let settings = repo::for_application(caller.pool(), application_id).await?;
    let verifier = super::service::Verifier {
        pool: caller.pool(),
        codes: &caller.state.codes,
        keys: &caller.state.verify_keys,
        writer: &caller.state.code_writer,
        secrets: &caller.state.secrets,
        ip: &caller.ip,
        now: chrono::Utc::now().timestamp(),
    };
    super::service::handle(&verifier, &settings.public_key, body.to_string().as_bytes())
        .await
        .map_err(|_| AppError::NotFound(crate::tr!(apps.application)))
}

#[server(endpoint = "demo_get_sms")]
pub async fn demo_get_sms(application_id: i64, phone: String) -> Result<VerifyReply, AppError> {
    serve(|caller| async move {
        caller.require(Role::Operator).await?;
        demo(
            &caller,
            application_id,
            json!({ "method": "getSms", "phone": phone }),
        )
        .await
    })
    .await
}

#[server(endpoint = "demo_login")]
pub async fn demo_login(
    application_id: i64,
    phone: String,
    #[server(default)] code: String,
) -> Result<VerifyReply, AppError> {
    serve(|caller| async move {
        caller.require(Role::Operator).await?;
        demo(
            &caller,
            application_id,
            json!({ "method": "login", "phone": phone, "code": code }),
        )
        .await
    })
    .await
}

/// The application's latest verification messages as they went out (newest first).
#[server(endpoint = "recent_codes")]
pub async fn recent_codes(application_id: i64) -> Result<Vec<SentCode>, AppError> {
    serve(|caller| async move {
        caller.require(Role::Operator).await?;
        let rows = repo::recent_codes(caller.pool(), application_id).await?;
        let secrets = &caller.state.secrets;
        Ok(rows
            .into_iter()
            .map(|r| {
                // A code that reached a handset stays hidden; the simulator's are for trying.
                let mut params = r.params;
                if let Some(code) = params.first_mut() {
                    *code = match secrets.open(code) {
                        Ok(plain) if r.simulated => plain,
                        _ => "••••••".to_owned(),
                    };
                }
                SentCode {
                    text: crate::templates::segments::with_signature(
                        &r.signature,
                        &TemplateContent::from_stored(r.template).render(&params),
                    ),
                    phone: r.phone,
                    state: crate::dispatch::model::MessageState::from_code(r.state),
                    at: r.at,
                }
            })
            .collect())
    })
    .await
}
