use leptos::prelude::*;

use super::model::{ApiKeyView, Application, NewKeyPair};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use {
    super::model::{optional_text, CallbackUrl},
    super::repo,
    crate::accounts::model::{Label, Role},
    crate::audit::repo::{record, AuditEvent},
    crate::error::FieldErrors,
    crate::state::serve,
    serde_json::json,
};

#[server(endpoint = "list_applications")]
pub async fn list_applications() -> Result<Vec<Application>, AppError> {
    serve(|caller| async move {
        caller.require(Role::Operator).await?;
        repo::list(caller.pool()).await
    })
    .await
}

#[server(endpoint = "get_application")]
pub async fn get_application(id: i64) -> Result<Application, AppError> {
    serve(|caller| async move {
        caller.require(Role::Operator).await?;
        repo::get(caller.pool(), id).await
    })
    .await
}

#[cfg(feature = "ssr")]
fn parse_fields(
    errors: &mut FieldErrors,
    name: &str,
    callback_url: &str,
    description: &str,
) -> Option<(Label, CallbackUrl, String)> {
    let name = errors.check(Label::parse("name", name, 60));
    let callback_url = errors.check(CallbackUrl::parse("callback_url", callback_url));
    let description = errors.check(optional_text("description", description, 500));
    Some((name?, callback_url?, description?))
}

#[server(endpoint = "create_application")]
pub async fn create_application(
    name: String,
    callback_url: String,
    description: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Operator).await?;
        let mut errors = FieldErrors::default();
        let fields = parse_fields(&mut errors, &name, &callback_url, &description);
        let (name, callback_url, description) = errors.finish(fields)?;
        let mut tx = caller.pool().begin().await?;
        let app = repo::insert(&mut tx, &name, &callback_url, &description, Some(user.id)).await?;
        let details = json!({ "name": app.name, "sdk_app_id": app.sdk_app_id });
        record(
            &mut *tx,
            AuditEvent::by(
                &user,
                &caller.ip,
                "application.create",
                "application",
                app.id,
                details,
            ),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/applications/{}", app.id));
        Ok(())
    })
    .await
}

#[server(endpoint = "update_application")]
pub async fn update_application(
    id: i64,
    name: String,
    callback_url: String,
    description: String,
    enabled: Option<String>,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Operator).await?;
        let mut errors = FieldErrors::default();
        let fields = parse_fields(&mut errors, &name, &callback_url, &description);
        let (name, callback_url, description) = errors.finish(fields)?;
        let enabled = enabled.is_some();
        let mut tx = caller.pool().begin().await?;
        repo::update(&mut tx, id, &name, &callback_url, &description, enabled).await?;
        let details = json!({ "name": name.as_str(), "callback_url": callback_url.as_deref(), "enabled": enabled });
        record(&mut *tx, AuditEvent::by(&user, &caller.ip, "application.update", "application", id, details)).await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}

/// Chooses the carrier the application's messages go through (empty: the default carrier).
#[server(endpoint = "set_application_carrier")]
pub async fn set_application_carrier(
    id: i64,
    #[server(default)] carrier_id: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Operator).await?;
        let carrier = match carrier_id.trim() {
            "" => None,
            raw => Some(raw.parse::<i64>().map_err(|_| {
                AppError::field("carrier_id", crate::tr!(apps.errors.choose_carrier))
            })?),
        };
        let mut tx = caller.pool().begin().await?;
        repo::set_carrier(&mut tx, id, carrier).await?;
        let details = json!({ "carrier_id": carrier });
        record(
            &mut *tx,
            AuditEvent::by(
                &user,
                &caller.ip,
                "application.carrier",
                "application",
                id,
                details,
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}

/// Where a key pair waits, in the creator's session, to be shown once (also after a plain form
/// post, before the page hydrates).
#[cfg(feature = "ssr")]
const FRESH_KEY: &str = "fresh_api_key";

#[server(endpoint = "list_api_keys")]
pub async fn list_api_keys(application_id: i64) -> Result<Vec<ApiKeyView>, AppError> {
    serve(|caller| async move {
        caller.require(Role::Operator).await?;
        super::keys::list(caller.pool(), application_id).await
    })
    .await
}

#[server(endpoint = "create_api_key")]
pub async fn create_api_key(application_id: i64) -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Operator).await?;
        let mut tx = caller.pool().begin().await?;
        let pair = super::keys::create(
            &mut tx,
            &caller.state.secrets,
            application_id,
            Some(user.id),
        )
        .await?;
        let details = json!({ "secret_id": pair.secret_id });
        record(
            &mut *tx,
            AuditEvent::by(
                &user,
                &caller.ip,
                "apikey.create",
                "application",
                application_id,
                details,
            ),
        )
        .await?;
        tx.commit().await?;
        caller
            .session
            .insert(FRESH_KEY, &pair)
            .await
            .map_err(|e| AppError::internal(format!("session: {e}")))?;
        Ok(())
    })
    .await
}

/// The key pair this user just made for the application, once; `None` afterwards.
#[server(endpoint = "take_fresh_api_key")]
pub async fn take_fresh_api_key(application_id: i64) -> Result<Option<NewKeyPair>, AppError> {
    serve(|caller| async move {
        caller.require(Role::Operator).await?;
        let fresh: Option<NewKeyPair> = caller
            .session
            .get(FRESH_KEY)
            .await
            .map_err(|e| AppError::internal(format!("session: {e}")))?;
        match fresh {
            Some(pair) if pair.application_id == application_id => {
                caller
                    .session
                    .remove::<NewKeyPair>(FRESH_KEY)
                    .await
                    .map_err(|e| AppError::internal(format!("session: {e}")))?;
                Ok(Some(pair))
            }
            _ => Ok(None),
        }
    })
    .await
}

#[server(endpoint = "revoke_api_key")]
pub async fn revoke_api_key(application_id: i64, key_id: i64) -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Operator).await?;
        let mut tx = caller.pool().begin().await?;
        let secret_id = super::keys::revoke(&mut tx, application_id, key_id).await?;
        let details = json!({ "secret_id": secret_id });
        record(
            &mut *tx,
            AuditEvent::by(
                &user,
                &caller.ip,
                "apikey.revoke",
                "application",
                application_id,
                details,
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}
