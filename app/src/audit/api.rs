use leptos::prelude::*;

use super::model::{AuditFilter, AuditPage};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use {super::model::AUDIT_PAGE_SIZE, crate::accounts::model::Role, crate::state::serve};

#[server(endpoint = "list_audit")]
pub async fn list_audit(#[server(default)] filter: AuditFilter) -> Result<AuditPage, AppError> {
    serve(|caller| async move {
        caller.require(Role::Admin).await?;
        let mut entries = super::repo::list(caller.pool(), &filter).await?;
        let has_more = entries.len() as i64 > AUDIT_PAGE_SIZE;
        entries.truncate(AUDIT_PAGE_SIZE as usize);
        let (actions, object_types) = super::repo::vocabulary(caller.pool()).await?;
        Ok(AuditPage {
            entries,
            has_more,
            actions,
            object_types,
        })
    })
    .await
}
