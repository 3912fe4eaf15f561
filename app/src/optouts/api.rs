use leptos::prelude::*;

use super::OptOutPage;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use {
    super::{repo, OPT_OUT_PAGE_SIZE},
    crate::accounts::model::Role,
    crate::apps::model::optional_text,
    crate::audit::repo::{record, AuditEvent},
    crate::error::FieldErrors,
    crate::numbers::PhoneNumber,
    crate::state::serve,
    serde_json::json,
};

#[server(endpoint = "list_opt_outs")]
pub async fn list_opt_outs(
    #[server(default)] search: Option<String>,
    #[server(default)] after: Option<String>,
) -> Result<OptOutPage, AppError> {
    serve(|caller| async move {
        caller.require(Role::Admin).await?;
        let search = search
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        let (mut entries, total) =
            repo::page(caller.pool(), search.as_deref(), after.as_deref()).await?;
        let has_more = entries.len() as i64 > OPT_OUT_PAGE_SIZE;
        entries.truncate(OPT_OUT_PAGE_SIZE as usize);
        Ok(OptOutPage {
            entries,
            total,
            has_more,
        })
    })
    .await
}

#[server(endpoint = "add_opt_out")]
pub async fn add_opt_out(phone: String, note: String) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let mut errors = FieldErrors::default();
        let number = errors.check(PhoneNumber::parse(&phone).map_err(|p| {
            let locale = crate::locale::current();
            AppError::field(
                "phone",
                crate::i18n::td_string!(
                    locale,
                    optout.errors.invalid_phone,
                    problem = p.describe(locale)
                )
                .to_string(),
            )
        }));
        let note = errors.check(optional_text("note", &note, 200));
        let (number, note) = errors.finish(number.zip(note))?;
        let mut tx = caller.pool().begin().await?;
        if repo::add_all(
            &mut tx,
            std::slice::from_ref(&number),
            "console",
            &note,
            admin.id,
        )
        .await?
            == 0
        {
            return Err(AppError::field(
                "phone",
                crate::tr!(optout.errors.already_listed),
            ));
        }
        let details = json!({ "phone": number.as_str(), "note": note });
        record(
            &mut *tx,
            AuditEvent::by(
                &admin,
                &caller.ip,
                "opt_out.add",
                "opt_out",
                number.as_str(),
                details,
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}

#[server(endpoint = "remove_opt_out")]
pub async fn remove_opt_out(phone: String) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let number = PhoneNumber::parse(&phone)
            .map_err(|_| AppError::NotFound(crate::tr!(optout.errors.entry)))?;
        let mut tx = caller.pool().begin().await?;
        repo::remove(&mut tx, &number).await?;
        record(
            &mut *tx,
            AuditEvent::by(
                &admin,
                &caller.ip,
                "opt_out.remove",
                "opt_out",
                number.as_str(),
                json!({}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}
