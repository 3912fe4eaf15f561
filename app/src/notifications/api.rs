use leptos::prelude::*;

use super::model::Notification;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use {super::repo, crate::state::serve};

#[server(endpoint = "unread_notifications")]
pub async fn unread_notifications() -> Result<i64, AppError> {
    serve(|caller| async move {
        let user = caller.user().await?;
        repo::unread_count(caller.pool(), user.id).await
    })
    .await
}

#[server(endpoint = "list_notifications")]
pub async fn list_notifications() -> Result<Vec<Notification>, AppError> {
    serve(|caller| async move {
        let user = caller.user().await?;
        repo::recent(caller.pool(), user.id).await
    })
    .await
}

#[server(endpoint = "mark_notifications_read")]
pub async fn mark_notifications_read() -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.user().await?;
        repo::mark_all_read(caller.pool(), user.id).await
    })
    .await
}
