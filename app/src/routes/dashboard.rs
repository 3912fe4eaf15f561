//! The dashboard: the day's figures, the organisation, and the reader's roles and areas.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::accounts::frame::{role_words, Area, Auth};
use crate::accounts::model::{AccountType, SessionState};
use crate::i18n::{t, td_string, use_i18n};

#[component]
pub fn DashboardPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let i18n = use_i18n();
    view! {
        <Title text=move || td_string!(i18n.get_locale(), dashboard.title)/>
        <section class="page">
            <h1>{t!(i18n, dashboard.title)}</h1>
            <crate::stats::pages::DashboardFiguresSection/>
            // The console's frame is only rendered with a known session (see `shell::for_session`).
            {match auth.session.get_untracked() {
                        Some(Ok(SessionState::SignedIn { user, organisation })) => {
                            let areas = Area::ALL
                                .into_iter()
                                .filter(|a| *a != Area::Dashboard && a.open_to(&user))
                                .map(|a| {
                                    view! {
                                        <li>
                                            <A href=a.path()>{move || a.label(i18n.get_locale())}</A>
                                        </li>
                                    }
                                })
                                .collect_view();
                            let roles = user
                                .roles
                                .iter()
                                .map(|r| view! {
                                    <li>{move || {
                                        let (name, does) = role_words(i18n.get_locale(), r);
                                        view! { <strong>{name}</strong>": "{does} }
                                    }}</li>
                                })
                                .collect_view();
                            view! {
                                <div class="cards">
                                    <article class="card">
                                        <h2>{organisation.name.clone()}</h2>
                                        <p>{move || {
                                            let locale = i18n.get_locale();
                                            let kind = match organisation.account_type {
                                                AccountType::Organisation => td_string!(locale, dashboard.organisation),
                                                AccountType::Individual => td_string!(locale, dashboard.individual),
                                            };
                                            let verified = if organisation.verified {
                                                td_string!(locale, dashboard.verified)
                                            } else {
                                                td_string!(locale, dashboard.not_verified)
                                            };
                                            td_string!(locale, dashboard.account, kind, verified)
                                        }}</p>
                                    </article>
                                    <article class="card">
                                        <h2>{t!(i18n, dashboard.your_roles)}</h2>
                                        <ul>{roles}</ul>
                                    </article>
                                    <article class="card">
                                        <h2>{t!(i18n, dashboard.your_areas)}</h2>
                                        <ul>{areas}</ul>
                                    </article>
                                </div>
                            }
                            .into_any()
                        }
                        _ => ().into_any(),
            }}
        </section>
    }
}
