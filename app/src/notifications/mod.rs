//! In-console notifications: the bell and its list.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::forms::error_view;
use crate::i18n::{t, td_string, use_i18n};
use crate::locale::date_time_minutes;
#[cfg(feature = "ssr")]
use crate::state::serve;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Notification {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub read: bool,
}

#[cfg(feature = "ssr")]
pub mod repo {
    use sqlx::{PgConnection, PgPool};

    use super::Notification;
    use crate::error::AppError;

    pub async fn notify(
        conn: &mut PgConnection,
        user_id: i64,
        title: &str,
        body: &str,
        link: Option<&str>,
    ) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO notifications (user_id, title, body, link) VALUES ($1, $2, $3, $4)",
        )
        .bind(user_id)
        .bind(title)
        .bind(body)
        .bind(link)
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn unread_count(pool: &PgPool, user_id: i64) -> Result<i64, AppError> {
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(pool)
        .await?)
    }

    pub async fn recent(pool: &PgPool, user_id: i64) -> Result<Vec<Notification>, AppError> {
        Ok(sqlx::query_as(
            "SELECT id, title, body, link, created_at, read_at IS NOT NULL AS read FROM notifications
              WHERE user_id = $1 ORDER BY id DESC LIMIT 100",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await?)
    }

    pub async fn mark_all_read(pool: &PgPool, user_id: i64) -> Result<(), AppError> {
        sqlx::query(
            "UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user_id)
        .execute(pool)
        .await?;
        Ok(())
    }
}

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

/// Gives the bell and the notifications page one action to mark notifications read, so the
/// bell's count drops as soon as the page has marked them; the console frame, around both, calls it.
pub fn provide_mark_read() {
    provide_context(ServerAction::<MarkNotificationsRead>::new());
}

/// The bell in the top bar, with the number of unread notifications; rechecked on every page and
/// when they are marked read.
#[component]
pub fn Bell() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let mark_read = expect_context::<ServerAction<MarkNotificationsRead>>();
    let unread = Resource::new(
        move || (location.pathname.get(), mark_read.version().get()),
        |_| unread_notifications(),
    );
    let i18n = use_i18n();
    view! {
        <A href="/notifications" attr:class="bell"
            attr:aria-label=move || td_string!(i18n.get_locale(), notifications.title)>
            <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z"/>
            </svg>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match unread.await {
                        Ok(n) if n > 0 => view! { <span class="count" data-unread=n>{n}</span> }.into_any(),
                        _ => ().into_any(),
                    }
                })}
            </Transition>
        </A>
    }
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let mark_read = expect_context::<ServerAction<MarkNotificationsRead>>();
    let items = Resource::new(move || mark_read.version().get(), |_| list_notifications());
    let i18n = use_i18n();
    view! {
        <Title text=move || td_string!(i18n.get_locale(), notifications.title)/>
        <section class="page">
            <h1>{t!(i18n, notifications.title)}</h1>
            <ActionForm action=mark_read>
                <button type="submit">{t!(i18n, notifications.mark_all_read)}</button>
            </ActionForm>
            <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                <ErrorBoundary fallback=error_view>
                    {move || Suspend::new(async move {
                        items.await.map(|items| {
                            if items.is_empty() {
                                return view! { <p class="empty">{t!(i18n, notifications.empty)}</p> }.into_any();
                            }
                            view! {
                                <ul class="notifications">
                                    {items
                                        .into_iter()
                                        .map(|n| {
                                            let at = n.created_at;
                                            view! {
                                            <li class:unread=!n.read>
                                                <strong>
                                                    {match n.link {
                                                        Some(link) => view! { <A href=link>{n.title.clone()}</A> }.into_any(),
                                                        None => n.title.clone().into_any(),
                                                    }}
                                                </strong>
                                                {(!n.body.is_empty()).then(|| view! { <p>{n.body.clone()}</p> })}
                                                <time class="muted" datetime=at.to_rfc3339()>
                                                    {move || date_time_minutes(i18n.get_locale(), at)}
                                                </time>
                                            </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                            .into_any()
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}
