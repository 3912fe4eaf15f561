//! The signed-in frame around every console page: the navigation, the bell, the language switch.

use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

use crate::accounts::frame::{for_session, role_words, Area, Auth, LanguageSwitch};
use crate::accounts::model::{CurrentUser, Organisation, SessionState};
use crate::i18n::{t, td_string, use_i18n};

/// The signed-in frame around every console page; sends everyone else to set-up or sign-in.
#[component]
pub fn ConsoleLayout() -> impl IntoView {
    for_session(
        |state| matches!(state, SessionState::SignedIn { .. }),
        |state| match state {
            SessionState::SignedIn { user, organisation } => {
                view! { <Frame user organisation/> }.into_any()
            }
            _ => ().into_any(),
        },
    )
}

#[component]
fn Frame(user: CurrentUser, organisation: Organisation) -> impl IntoView {
    let auth = expect_context::<Auth>();
    crate::notifications::pages::provide_mark_read();
    let i18n = use_i18n();
    let nav_items = Area::ALL
        .into_iter()
        .filter(|area| area.open_to(&user))
        .map(|area| {
            view! {
                <li>
                    // An area stays current on the pages below it (a task under Delivery Records,
                    // a section under Settings); only the dashboard's address is a prefix of all.
                    <A href=area.path() exact=area == Area::Dashboard>
                        {move || area.label(i18n.get_locale())}
                    </A>
                </li>
            }
        })
        .collect_view();
    let user_roles = user.roles.clone();
    let roles = move || {
        user_roles
            .iter()
            .map(|r| role_words(i18n.get_locale(), r).0)
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <div class="console">
            <header class="topbar">
                <a class="brand" href="/">"Herald"</a>
                <span class="org">{organisation.name}</span>
                <LanguageSwitch/>
                <crate::notifications::pages::Bell/>
                <details class="user-menu">
                    <summary>
                        <span class="user-name">{user.display_name.clone()}</span>
                        <span class="user-roles">{roles}</span>
                    </summary>
                    <div class="user-menu-body">
                        <p class="muted">{user.email.clone()}</p>
                        <A href="/account">{t!(i18n, shell.change_password)}</A>
                        <ActionForm action=auth.log_out>
                            <button type="submit" class="link">{t!(i18n, shell.sign_out)}</button>
                        </ActionForm>
                    </div>
                </details>
            </header>
            <nav class="sidenav" aria-label=move || td_string!(i18n.get_locale(), nav.console)>
                <ul>{nav_items}</ul>
            </nav>
            <main class="content">
                <Outlet/>
            </main>
        </div>
    }
}
