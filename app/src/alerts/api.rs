use leptos::prelude::*;

use super::model::{AlarmContact, Delivery};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use {
    super::model::parse_phone,
    super::repo::{self, NewContact},
    crate::accounts::model::{EmailAddress, Label, Role},
    crate::apps::model::CallbackUrl,
    crate::audit::repo::{record, AuditEvent},
    crate::error::FieldErrors,
    crate::state::serve,
    serde_json::json,
};

#[server(endpoint = "list_alarm_contacts")]
pub async fn list_alarm_contacts() -> Result<(Vec<AlarmContact>, Vec<Delivery>), AppError> {
    serve(|caller| async move {
        caller.require(Role::Admin).await?;
        Ok((
            repo::contacts(caller.pool()).await?,
            repo::recent_deliveries(caller.pool()).await?,
        ))
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
