//! Herald's console: pages, server functions and the domain behind them.

pub mod accounts;
pub mod alerts;
pub mod apps;
pub mod audit;
pub mod balance;
pub mod campaigns;
pub mod carriers;
pub mod charts;
pub mod dispatch;
pub mod error;
pub mod forms;
pub mod limits;
pub mod locale;
// The console's strings in every language (generated from locales/<language>/*.json by build.rs).
include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));
#[cfg(feature = "ssr")]
pub mod metrics;
pub mod notifications;
pub mod numbers;
pub mod optouts;
pub mod receipts;
pub mod review;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod secrets;
pub mod send;
pub mod signatures;
#[cfg(feature = "ssr")]
pub mod signing;
#[cfg(feature = "ssr")]
pub mod state;
pub mod stats;
pub mod templates;
pub mod tencent;
pub mod verify;

use leptos::prelude::*;
use leptos::server::ServerActionError;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::hooks::use_query_map;
use leptos_router::{path, SsrMode};

use accounts::api::{LogIn, LogOut, SetUp};
use accounts::frame::Auth;
use accounts::model::SessionState;
use routes::frame::ConsoleLayout;

/// Once the front end has stopped (the document is marked `failed` by the panic hook in
/// `frontend`), its event handlers are dead: links and forms go back to what the browser does by
/// itself (every form here also works without JavaScript), rather than to handlers that no
/// longer answer.
const FALLBACK_SCRIPT: &str = "(function(){var failed=function(){return document.documentElement.dataset.hydrated==='failed'};\
addEventListener('click',function(e){if(failed()&&e.target.closest&&e.target.closest('a[href]'))e.stopImmediatePropagation()},true);\
addEventListener('submit',function(e){if(failed())e.stopImmediatePropagation()},true)})();";

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <script inner_html=FALLBACK_SCRIPT></script>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/herald.css"/>
        <Title formatter=|page: String| if page.is_empty() { "Herald".to_owned() } else { format!("{page} · Herald") }/>
        // The language: the one chosen (remembered a year in a cookie for the whole console, as
        // `locale::set_cookie` writes it at sign-in), else the browser's.
        <i18n::I18nContextProvider cookie_options=leptos_i18n::context::CookieOptions::default()
            .path("/")
            .max_age(locale::COOKIE_MAX_AGE_SECONDS * 1000)>
            <Router>
                <Console/>
            </Router>
        </i18n::I18nContextProvider>
    }
}

#[cfg(feature = "ssr")]
fn preloaded_session() -> Option<SessionState> {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| {
            parts
                .extensions
                .get::<accounts::model::PreloadedSession>()
                .cloned()
        })
        .map(|preloaded| preloaded.0)
}

#[cfg(not(feature = "ssr"))]
fn preloaded_session() -> Option<SessionState> {
    None
}

/// The routes, and the session shared by every page.
#[component]
fn Console() -> impl IntoView {
    // A form posted before hydration comes back with its error in the URL. `Routes` hands that
    // error to actions created after it; the session actions are created before it, so they
    // receive it here.
    let query = use_query_map().get_untracked();
    if let (Some(err), Some(path)) = (query.get("__err"), query.get("__path")) {
        provide_context(ServerActionError::new(&path, &err));
    }
    let log_in = ServerAction::<LogIn>::new();
    // Signing in brings the language the account chose (a form posted before hydration gets it
    // as a cookie with the redirect instead).
    let i18n = i18n::use_i18n();
    Effect::new(move |_| {
        if let Some(Ok(Some(chosen))) = log_in.value().get() {
            if let Ok(locale) = chosen.parse() {
                i18n.set_locale(locale);
            }
        }
    });
    let log_out = ServerAction::<LogOut>::new();
    let set_up = ServerAction::<SetUp>::new();
    // The server worked the session out before rendering (`PreloadedSession`) and hands it to
    // the browser with the page: both render every page at once, the same way, with nothing
    // suspended around the console's frame (a suspended part may be rendered more than once by
    // the server, creating its resources again under ids the browser never sees). Sign-in,
    // sign-out and set-up change it: it is asked for again whenever one of them finishes.
    let known = SharedValue::new(preloaded_session).into_inner();
    let (session, set_session) = signal(known.map(Ok));
    Effect::new(move |previous: Option<(usize, usize, usize)>| {
        let versions = (
            log_in.version().get(),
            log_out.version().get(),
            set_up.version().get(),
        );
        if previous.is_some() || session.get_untracked().is_none() {
            leptos::task::spawn_local(async move {
                set_session.set(Some(accounts::api::get_session().await));
            });
        }
        versions
    });
    provide_context(Auth {
        session,
        log_in,
        log_out,
        set_up,
    });

    view! {
        <Routes fallback=|| view! { <section class="page"><h1>"Page not found"</h1></section> }>
            <Route path=path!("/setup") view=accounts::pages::SetupPage ssr=SsrMode::Async/>
            <Route path=path!("/login") view=accounts::pages::LoginPage ssr=SsrMode::Async/>
            <ParentRoute path=path!("") view=ConsoleLayout ssr=SsrMode::Async>
                <Route path=path!("") view=routes::dashboard::DashboardPage/>
                <Route path=path!("account") view=accounts::pages::AccountPage/>
                <Route path=path!("users") view=accounts::pages::UsersPage/>
                <Route path=path!("settings") view=accounts::pages::SettingsPage/>
                <Route path=path!("settings/packages") view=routes::settings::PackagesSettingsPage/>
                <Route path=path!("settings/content") view=routes::settings::ContentSettingsPage/>
                <Route path=path!("settings/carriers") view=routes::settings::CarriersSettingsPage/>
                <Route path=path!("settings/alarms") view=routes::settings::AlarmsSettingsPage/>
                <Route path=path!("settings/opt-outs") view=optouts::pages::OptOutsPage/>
                <Route path=path!("settings/limits") view=limits::pages::FrequencyLimitsPage/>
                <Route path=path!("settings/limits/:id") view=limits::pages::ApplicationLimitsPage/>
                <Route path=path!("audit") view=audit::pages::AuditPage/>
                <Route path=path!("notifications") view=notifications::pages::NotificationsPage/>
                <Route path=path!("signatures") view=signatures::pages::SignaturesPage/>
                <Route path=path!("signatures/new") view=signatures::pages::NewSignaturePage/>
                <Route path=path!("signatures/:id") view=signatures::pages::SignaturePage/>
                <Route path=path!("templates") view=templates::pages::TemplatesPage/>
                <Route path=path!("templates/new") view=templates::pages::NewTemplatePage/>
                <Route path=path!("templates/:id") view=templates::pages::TemplatePage/>
                <Route path=path!("review") view=routes::review::ReviewQueuePage/>
                <Route path=path!("review/:subject/:id") view=routes::review::ReviewItemPage/>
                <Route path=path!("bulk") view=campaigns::pages::bulk::BulkSmsPage/>
                <Route path=path!("records") view=campaigns::pages::records::DeliveryRecordsPage/>
                <Route path=path!("records/:id") view=campaigns::pages::records::TaskPage/>
                <Route path=path!("statistics") view=stats::pages::StatisticsPage/>
                <Route path=path!("applications") view=apps::pages::ApplicationsPage/>
                <Route path=path!("applications/:id") view=apps::pages::ApplicationPage/>
                <Route path=path!("api-reference") view=tencent::pages::ApiReferencePage/>
            </ParentRoute>
        </Routes>
    }
}
