use leptos::prelude::*;

use super::model::{ContentPolicy, Template};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use {
    super::model::{SmsType, TemplateContent},
    super::repo::{self, TemplateDraft},
    crate::accounts::model::{Label, Role},
    crate::apps::model::optional_text,
    crate::audit::repo::{record, AuditEvent},
    crate::error::FieldErrors,
    crate::review::model::Subject,
    crate::review::service::lock_status,
    crate::state::serve,
    serde_json::json,
};

#[server(endpoint = "list_templates")]
pub async fn list_templates() -> Result<Vec<Template>, AppError> {
    serve(|caller| async move {
        caller.require(Role::Operator).await?;
        repo::list(caller.pool()).await
    })
    .await
}

/// Operators manage templates; admins read them to review.
#[server(endpoint = "get_template")]
pub async fn get_template(id: i64) -> Result<Template, AppError> {
    serve(|caller| async move {
        caller.require_any(&[Role::Operator, Role::Admin]).await?;
        repo::get(caller.pool(), id).await
    })
    .await
}

/// The rules the editor checks as the operator types, and approved signatures to preview with.
#[server(endpoint = "template_editor_data")]
pub async fn template_editor_data() -> Result<(ContentPolicy, Vec<String>), AppError> {
    serve(|caller| async move {
        caller.require(Role::Operator).await?;
        let policy = repo::policy(caller.pool()).await?;
        let signatures = crate::signatures::repo::approved_names(caller.pool()).await?;
        Ok((policy, signatures))
    })
    .await
}

/// A template as submitted, checked field by field (the console's form and the API's
/// AddSmsTemplate / ModifySmsTemplate alike).
#[cfg(feature = "ssr")]
pub(crate) async fn parse_draft(
    pool: &sqlx::PgPool,
    name: &str,
    sms_type: &str,
    content: &str,
    international: &Option<String>,
    remark: &str,
) -> Result<TemplateDraft, AppError> {
    let policy = repo::policy(pool).await?;
    let mut errors = FieldErrors::default();
    let name = errors.check(Label::parse("name", name, 60));
    let sms_type = errors.check(SmsType::parse("sms_type", sms_type));
    let content = sms_type.and_then(|t| errors.check(TemplateContent::parse(content, t, &policy)));
    let remark = errors.check(optional_text("remark", remark, 500));
    let draft = (|| {
        Some(TemplateDraft {
            name: name?,
            sms_type: sms_type?,
            content: content?,
            international: international.is_some(),
            remark: remark?,
        })
    })();
    errors.finish(draft)
}

#[cfg(feature = "ssr")]
pub(crate) fn audit_details(draft: &TemplateDraft) -> serde_json::Value {
    json!({
        "name": draft.name.as_str(),
        "sms_type": draft.sms_type.code(),
        "content": draft.content.as_str(),
        "international": draft.international,
    })
}

#[server(endpoint = "create_template")]
pub async fn create_template(
    name: String,
    sms_type: String,
    content: String,
    international: Option<String>,
    remark: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Operator).await?;
        let draft = parse_draft(
            caller.pool(),
            &name,
            &sms_type,
            &content,
            &international,
            &remark,
        )
        .await?;
        let mut tx = caller.pool().begin().await?;
        let id = repo::insert(&mut tx, &draft, user.id, None).await?;
        record(
            &mut *tx,
            AuditEvent::by(
                &user,
                &caller.ip,
                "template.submit",
                "template",
                id,
                audit_details(&draft),
            ),
        )
        .await?;
        tx.commit().await?;
        leptos_axum::redirect(&format!("/templates/{id}"));
        Ok(())
    })
    .await
}

#[server(endpoint = "update_template")]
pub async fn update_template(
    id: i64,
    name: String,
    sms_type: String,
    content: String,
    international: Option<String>,
    remark: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Operator).await?;
        let draft = parse_draft(
            caller.pool(),
            &name,
            &sms_type,
            &content,
            &international,
            &remark,
        )
        .await?;
        let mut tx = caller.pool().begin().await?;
        lock_status(&mut tx, Subject::Template, id).await?.edit()?;
        repo::resubmit(&mut tx, id, &draft, user.id).await?;
        record(
            &mut *tx,
            AuditEvent::by(
                &user,
                &caller.ip,
                "template.resubmit",
                "template",
                id,
                audit_details(&draft),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}

#[server(endpoint = "delete_template")]
pub async fn delete_template(id: i64, confirm: Option<String>) -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Operator).await?;
        crate::review::service::delete(
            caller.pool(),
            &caller.ip,
            &user,
            Subject::Template,
            id,
            confirm.is_some(),
        )
        .await?;
        leptos_axum::redirect("/templates");
        Ok(())
    })
    .await
}

#[server(endpoint = "get_unsubscribe_phrases")]
pub async fn get_unsubscribe_phrases() -> Result<Vec<String>, AppError> {
    serve(|caller| async move {
        caller.require(Role::Admin).await?;
        Ok(repo::policy(caller.pool()).await?.unsubscribe_phrases)
    })
    .await
}

/// One phrase per line; a marketing template must end with one of them.
#[server(endpoint = "update_unsubscribe_phrases")]
pub async fn update_unsubscribe_phrases(phrases: String) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let list: Vec<String> = phrases
            .lines()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        if list.is_empty() {
            return Err(AppError::field(
                "phrases",
                crate::tr!(template.errors.keep_one_phrase),
            ));
        }
        if let Some(long) = list.iter().find(|p| p.chars().count() > 30) {
            return Err(AppError::field(
                "phrases",
                crate::tr!(template.errors.phrase_too_long, phrase = long),
            ));
        }
        let mut tx = caller.pool().begin().await?;
        sqlx::query!(
            "UPDATE organisation SET unsubscribe_phrases = $1, updated_at = now()",
            &list
        )
        .execute(&mut *tx)
        .await?;
        record(
            &mut *tx,
            AuditEvent::by(
                &admin,
                &caller.ip,
                "organisation.unsubscribe_phrases",
                "organisation",
                1,
                json!({ "phrases": list }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}
