use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::api::{list_notifications, unread_notifications, MarkNotificationsRead};
use crate::forms::error_view;
use crate::i18n::{t, td_string, use_i18n};
use crate::locale::date_time_minutes;

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
