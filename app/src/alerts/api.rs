use leptos::prelude::*;

use super::model::AlertsOverview;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use {
    super::model::parse_phone,
    super::repo::{self, NewContact},
    crate::accounts::model::{EmailAddress, Label, Role},
    crate::apps::model::CallbackUrl,
    crate::audit::repo::{record, AuditEvent},
    crate::balance::model::parse_units,
    crate::error::FieldErrors,
    crate::state::serve,
    serde_json::json,
};

#[server(endpoint = "list_alarm_contacts")]
pub async fn list_alarm_contacts() -> Result<AlertsOverview, AppError> {
    serve(|caller| async move {
        caller.require(Role::Admin).await?;
        Ok(AlertsOverview {
            contacts: repo::contacts(caller.pool()).await?,
            deliveries: repo::recent_deliveries(caller.pool()).await?,
            balance_low_units: repo::balance_alert(caller.pool()).await?,
            sms: repo::alert_sms(caller.pool()).await?,
            sms_choices: repo::alert_sms_choices(caller.pool()).await?,
        })
    })
    .await
}

#[server(endpoint = "add_alarm_contact")]
pub async fn add_alarm_contact(
    name: String,
    email: String,
    phone: String,
    webhook_url: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let mut errors = FieldErrors::default();
        let name = errors.check(Label::parse("name", &name, 80));
        let email = match email.trim() {
            "" => Some(None),
            raw => errors.check(EmailAddress::parse("email", raw)).map(Some),
        };
        let phone = errors.check(parse_phone("phone", &phone));
        let webhook_url = errors.check(CallbackUrl::parse("webhook_url", &webhook_url));
        let (name, email, phone, webhook_url) =
            errors.finish((|| Some((name?, email?, phone?, webhook_url?)))())?;
        let mut tx = caller.pool().begin().await?;
        let id = repo::add_contact(
            &mut tx,
            NewContact {
                name: name.as_str(),
                email: email.as_ref().map(|e| e.as_str()),
                phone: phone.as_deref(),
                webhook_url: webhook_url.as_deref(),
            },
        )
        .await?;
        let details = json!({ "name": name.as_str(), "webhook_url": webhook_url.as_deref() });
        record(
            &mut *tx,
            AuditEvent::by(
                &admin,
                &caller.ip,
                "alarm_contact.create",
                "alarm_contact",
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

#[server(endpoint = "delete_alarm_contact")]
pub async fn delete_alarm_contact(id: i64) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let mut tx = caller.pool().begin().await?;
        let name = repo::delete_contact(&mut tx, id).await?;
        record(
            &mut *tx,
            AuditEvent::by(
                &admin,
                &caller.ip,
                "alarm_contact.delete",
                "alarm_contact",
                id,
                json!({ "name": name }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}

#[server(endpoint = "redeliver_webhook")]
pub async fn redeliver_webhook(id: i64) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let mut tx = caller.pool().begin().await?;
        let event_type = repo::redeliver(&mut tx, id).await?;
        record(
            &mut *tx,
            AuditEvent::by(
                &admin,
                &caller.ip,
                "webhook_delivery.redeliver",
                "webhook_delivery",
                id,
                json!({ "event_type": event_type }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}

/// Sets the balance below which `balance.low` is reported; blank turns the alert off.
#[server(endpoint = "set_balance_alert")]
pub async fn set_balance_alert(balance_low_units: String) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let units = match balance_low_units.trim() {
            "" => None,
            raw => Some(parse_units("balance_low_units", raw)?),
        };
        let mut tx = caller.pool().begin().await?;
        repo::set_balance_alert(&mut tx, units).await?;
        record(
            &mut *tx,
            AuditEvent::by(
                &admin,
                &caller.ip,
                "alerts.balance_threshold",
                "alert_settings",
                1,
                json!({ "balance_low_units": units }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}

/// Chooses the application, approved template and signature SMS alerts go out through; all
/// blank turns SMS alerts off.
#[server(endpoint = "set_alert_sms")]
pub async fn set_alert_sms(
    sms_application_id: String,
    sms_template_id: String,
    sms_signature_id: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let choices = repo::alert_sms_choices(caller.pool()).await?;
        let sms = choices.parse(&sms_application_id, &sms_template_id, &sms_signature_id)?;
        let mut tx = caller.pool().begin().await?;
        repo::set_alert_sms(&mut tx, sms).await?;
        record(
            &mut *tx,
            AuditEvent::by(
                &admin,
                &caller.ip,
                "alerts.sms",
                "alert_settings",
                1,
                json!({ "sms": sms }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}
