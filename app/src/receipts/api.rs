use leptos::prelude::*;

use super::model::MessagePage;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use {super::model::MessageFilter, crate::accounts::model::Role, crate::state::serve};

/// A page of a task's per-recipient records, after the message `after` (keyset paging).
#[server(endpoint = "list_task_messages")]
pub async fn list_task_messages(
    task_id: i64,
    #[server(default)] phone: String,
    #[server(default)] state: String,
    #[server(default)] code: String,
    #[server(default)] after: Option<i64>,
) -> Result<MessagePage, AppError> {
    serve(|caller| async move {
        let user = caller.require(Role::Marketer).await?;
        crate::campaigns::service::readable_task(caller.pool(), &user, task_id).await?;
        let filter = MessageFilter::parse(&phone, &state, &code);
        super::repo::messages(caller.pool(), task_id, &filter, after).await
    })
    .await
}
