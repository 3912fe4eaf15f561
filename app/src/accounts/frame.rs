//! What every console page stands in: who is signed in (`Auth`), the areas of the console and
//! who may open each, the guard around a page, and the language switch.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use super::api::{LogIn, LogOut, SetUp};
use super::model::{CurrentUser, Role, SessionState};
use crate::error::AppError;
use crate::i18n::{t, td_string, use_i18n, Locale};
use leptos_i18n::Locale as _;

/// The session as every page sees it, refreshed whenever someone signs in or out; `None` only
/// until it is first known.
#[derive(Clone, Copy)]
pub struct Auth {
    pub session: ReadSignal<Option<Result<SessionState, AppError>>>,
    pub log_in: ServerAction<LogIn>,
    pub log_out: ServerAction<LogOut>,
    pub set_up: ServerAction<SetUp>,
}

/// A role's name and what it opens, in `locale`.
pub fn role_words(locale: Locale, role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Admin => (
            td_string!(locale, role.admin),
            td_string!(locale, role.admin_does),
        ),
        Role::Operator => (
            td_string!(locale, role.operator),
            td_string!(locale, role.operator_does),
        ),
        Role::Marketer => (
            td_string!(locale, role.marketer),
            td_string!(locale, role.marketer_does),
        ),
    }
}

/// Every area of the console, in navigation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Dashboard,
    Signatures,
    Templates,
    Review,
    BulkSms,
    DeliveryRecords,
    Statistics,
    Applications,
    ApiReference,
    Settings,
    Users,
    AuditLog,
}

impl Area {
    pub const ALL: [Area; 12] = [
        Area::Dashboard,
        Area::Signatures,
        Area::Templates,
        Area::Review,
        Area::BulkSms,
        Area::DeliveryRecords,
        Area::Statistics,
        Area::Applications,
        Area::ApiReference,
        Area::Settings,
        Area::Users,
        Area::AuditLog,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Area::Dashboard => "/",
            Area::Signatures => "/signatures",
            Area::Templates => "/templates",
            Area::Review => "/review",
            Area::BulkSms => "/bulk",
            Area::DeliveryRecords => "/records",
            Area::Statistics => "/statistics",
            Area::Applications => "/applications",
            Area::ApiReference => "/api-reference",
            Area::Settings => "/settings",
            Area::Users => "/users",
            Area::AuditLog => "/audit",
        }
    }

    /// The area's name in the navigation, in `locale`.
    pub fn label(self, locale: Locale) -> &'static str {
        match self {
            Area::Dashboard => td_string!(locale, nav.dashboard),
            Area::Signatures => td_string!(locale, nav.signatures),
            Area::Templates => td_string!(locale, nav.templates),
            Area::Review => td_string!(locale, nav.review),
            Area::BulkSms => td_string!(locale, nav.bulk_sms),
            Area::DeliveryRecords => td_string!(locale, nav.delivery_records),
            Area::Statistics => td_string!(locale, nav.statistics),
            Area::Applications => td_string!(locale, nav.applications),
            Area::ApiReference => td_string!(locale, nav.api_reference),
            Area::Settings => td_string!(locale, nav.settings),
            Area::Users => td_string!(locale, nav.users),
            Area::AuditLog => td_string!(locale, nav.audit_log),
        }
    }

    /// The roles that open this area; empty means every signed-in user.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Area::Dashboard => &[],
            Area::Signatures | Area::Templates | Area::Applications | Area::ApiReference => {
                &[Role::Operator]
            }
            Area::Statistics => &[Role::Operator, Role::Marketer],
            Area::BulkSms | Area::DeliveryRecords => &[Role::Marketer],
            Area::Review | Area::Settings | Area::Users | Area::AuditLog => &[Role::Admin],
        }
    }

    pub fn open_to(self, user: &CurrentUser) -> bool {
        self.roles().is_empty() || self.roles().iter().any(|r| user.has(*r))
    }
}

/// Renders `page` for a reader whose session `belongs`, and sends anyone else where they belong.
///
/// The session is known when the page is first rendered (the server preloads it), so this
/// renders synchronously: nothing here may wait in a `Suspend`, whose body the server can run
/// more than once, creating the page's resources again under ids the browser never sees.
pub fn for_session(
    belongs: fn(&SessionState) -> bool,
    page: impl Fn(SessionState) -> AnyView + Send + Sync + 'static,
) -> impl IntoView {
    let auth = expect_context::<Auth>();
    let i18n = use_i18n();
    let location = leptos_router::hooks::use_location();
    let state = Memo::new(move |_| auth.session.get());
    move || match state.get() {
        None => view! { <p class="loading">{t!(i18n, shell.loading)}</p> }.into_any(),
        Some(Err(err)) => view! {
            <p class="alert alert-error" role="alert">{move || err.message(i18n.get_locale())}</p>
        }
        .into_any(),
        Some(Ok(state)) if belongs(&state) => page(state),
        Some(Ok(state)) => {
            let (path, query) = (
                location.pathname.get_untracked(),
                location.search.get_untracked(),
            );
            let to = state
                .redirect_for(&path, Some(query.trim_start_matches('?')))
                .unwrap_or_else(|| "/".to_owned());
            view! { <Redirect path=to/> }.into_any()
        }
    }
}

/// Renders the page only for users whose roles open its area; the server functions behind the
/// page check again, so this guard is for the reader, not for security.
///
/// Pages render inside `ConsoleLayout`, which has already awaited the session, so the check is
/// synchronous. It must not open a `Suspend` of its own: the server runs such a closure more
/// than once, which created the page's resources more than once and let their ids drift from
/// the browser's, so pages sometimes failed to hydrate.
#[component]
pub fn Guard(area: Area, children: ChildrenFn) -> impl IntoView {
    let auth = expect_context::<Auth>();
    match auth.session.get_untracked() {
        Some(Ok(SessionState::SignedIn { user, .. })) if area.open_to(&user) => {
            children().into_any()
        }
        Some(Ok(SessionState::SignedIn { .. })) => view! { <Forbidden/> }.into_any(),
        _ => ().into_any(),
    }
}

#[component]
fn Forbidden() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::FORBIDDEN);
    }
    let i18n = use_i18n();
    view! {
        <section class="page">
            <h1>{t!(i18n, shell.no_access)}</h1>
            <p>{t!(i18n, shell.no_access_body)}</p>
        </section>
    }
}

/// Switches the console's language; the choice is remembered in a cookie and, signed in, in the
/// user's account.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let choice = move |locale: Locale, name: &'static str| {
        view! {
            <button
                type="button"
                class="link"
                lang=locale.as_str()
                aria-pressed=move || (i18n.get_locale() == locale).to_string()
                on:click=move |_| {
                    i18n.set_locale(locale);
                    // Best effort: the cookie already keeps the choice in this browser.
                    leptos::task::spawn_local(async move {
                        let _ = crate::accounts::api::remember_language(locale.as_str().to_owned()).await;
                    });
                }
            >
                {name}
            </button>
        }
    };
    view! {
        <div class="language" role="group" aria-label=move || td_string!(i18n.get_locale(), language.label)>
            {choice(Locale::en, td_string!(Locale::en, language.en))}
            {choice(Locale::zh_CN, td_string!(Locale::zh_CN, language.zh_cn))}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::model::Roles;

    fn user(roles: Vec<Role>) -> CurrentUser {
        CurrentUser {
            id: 1,
            email: "u@example.com".into(),
            display_name: "U".into(),
            roles: Roles::new(roles).unwrap(),
        }
    }

    fn open(roles: Vec<Role>) -> Vec<Area> {
        let user = user(roles);
        Area::ALL.into_iter().filter(|a| a.open_to(&user)).collect()
    }

    #[test]
    fn each_role_opens_exactly_its_areas() {
        assert_eq!(
            open(vec![Role::Operator]),
            vec![
                Area::Dashboard,
                Area::Signatures,
                Area::Templates,
                Area::Statistics,
                Area::Applications,
                Area::ApiReference
            ]
        );
        assert_eq!(
            open(vec![Role::Marketer]),
            vec![
                Area::Dashboard,
                Area::BulkSms,
                Area::DeliveryRecords,
                Area::Statistics
            ]
        );
        assert_eq!(
            open(vec![Role::Admin]),
            vec![
                Area::Dashboard,
                Area::Review,
                Area::Settings,
                Area::Users,
                Area::AuditLog
            ]
        );
    }

    #[test]
    fn several_roles_open_the_union() {
        assert_eq!(
            open(vec![Role::Admin, Role::Operator, Role::Marketer]),
            Area::ALL.to_vec()
        );
    }
}
