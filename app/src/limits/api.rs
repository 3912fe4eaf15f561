use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::FrequencyRules;
use crate::error::AppError;

/// Every application's limits, and whether this account may change them (Tencent lets only
/// organisation accounts, not individual ones, set their own limits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitsOverview {
    pub organisation_account: bool,
    pub applications: Vec<(i64, String, FrequencyRules)>,
}
#[cfg(feature = "ssr")]
use {
    crate::accounts::model::Role,
    crate::audit::repo::{record, AuditEvent},
    crate::state::serve,
    serde_json::json,
};

/// An application's frequency limits (operators read them; admins change them).
#[server(endpoint = "get_frequency_rules")]
pub async fn get_frequency_rules(application_id: i64) -> Result<FrequencyRules, AppError> {
    serve(|caller| async move {
        caller.require_any(&[Role::Operator, Role::Admin]).await?;
        let rules = sqlx::query_scalar!(
            r#"SELECT frequency_rules AS "frequency_rules: sqlx::types::Json<FrequencyRules>"
                 FROM applications WHERE id = $1"#,
            application_id,
        )
        .fetch_optional(caller.pool())
        .await?;
        rules
            .map(|r| r.0)
            .ok_or_else(|| AppError::NotFound(crate::tr!(limits.what_application)))
    })
    .await
}

#[server(endpoint = "list_frequency_rules")]
pub async fn list_frequency_rules() -> Result<LimitsOverview, AppError> {
    serve(|caller| async move {
        caller.require(Role::Admin).await?;
        let applications = sqlx::query!(
            r#"SELECT id, name,
                      frequency_rules AS "frequency_rules: sqlx::types::Json<FrequencyRules>"
                 FROM applications ORDER BY name, id"#,
        )
        .fetch_all(caller.pool())
        .await?;
        Ok(LimitsOverview {
            organisation_account: organisation_account(caller.pool()).await?,
            applications: applications
                .into_iter()
                .map(|a| (a.id, a.name, a.frequency_rules.0))
                .collect(),
        })
    })
    .await
}

#[cfg(feature = "ssr")]
async fn organisation_account(pool: &sqlx::PgPool) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT account_type = 'organisation' AS "organisation!" FROM organisation"#
    )
    .fetch_optional(pool)
    .await?
    .unwrap_or(false))
}

/// Changes an application's limits: an organisation (admin) decision, applied to the next
/// message of every kind (bulk, API, verification) in every server process.
#[server(endpoint = "save_frequency_rules")]
pub async fn save_frequency_rules(
    application_id: i64,
    same_content_seconds: String,
    per_hour: String,
    per_day: String,
    app_per_day: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        if !organisation_account(caller.pool()).await? {
            return Err(AppError::Conflict(crate::tr!(limits.err_individual)));
        }
        let rules =
            FrequencyRules::parse(&same_content_seconds, &per_hour, &per_day, &app_per_day)?;
        let mut tx = caller.pool().begin().await?;
        let updated = sqlx::query!(
            "UPDATE applications SET frequency_rules = $2, updated_at = now() WHERE id = $1",
            application_id,
            sqlx::types::Json(rules) as _,
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(AppError::NotFound(crate::tr!(limits.what_application)));
        }
        record(
            &mut *tx,
            AuditEvent::by(
                &admin,
                &caller.ip,
                "application.frequency_rules",
                "application",
                application_id,
                json!(rules),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}
