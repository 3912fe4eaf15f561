use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::api::{
    get_application, list_api_keys, list_applications, take_fresh_api_key, CreateApiKey,
    CreateApplication, RevokeApiKey, SetApplicationCarrier, UpdateApplication,
};
use crate::accounts::frame::{Area, Guard};
use crate::forms::{action_error, action_succeeded, error_view, use_id_param, Field, FormAlert};
use crate::i18n::{t, td_string, use_i18n, Locale};
use crate::locale::{china_time, date, date_time_minutes};

/// Whether an application may send, in the console's language.
fn enabled_name(locale: Locale, enabled: bool) -> &'static str {
    if enabled {
        td_string!(locale, apps.enabled)
    } else {
        td_string!(locale, apps.disabled)
    }
}

#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let create = ServerAction::<CreateApplication>::new();
    let apps = Resource::new(move || create.version().get(), |_| list_applications());
    let error = action_error(create);
    let i18n = use_i18n();
    view! {
        <Title text=move || td_string!(i18n.get_locale(), apps.list_title)/>
        <Guard area=Area::Applications>
            <section class="page">
                <h1>{t!(i18n, apps.list_title)}</h1>
                <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            apps.await.map(|apps| {
                                if apps.is_empty() {
                                    return view! { <p class="empty">{t!(i18n, apps.empty)}</p> }.into_any();
                                }
                                let rows = apps
                                    .into_iter()
                                    .map(|a| {
                                        let (enabled, created) = (a.enabled, china_time(a.created_at).date_naive());
                                        view! {
                                        <tr>
                                            <td><A href=format!("/applications/{}", a.id)>{a.name}</A></td>
                                            <td><code>{a.sdk_app_id}</code></td>
                                            <td>{move || enabled_name(i18n.get_locale(), enabled)}</td>
                                            <td>{move || date(i18n.get_locale(), created)}</td>
                                        </tr>
                                        }
                                    })
                                    .collect_view();
                                view! {
                                    <div class="table-wrap">
                                        <table class="data">
                                            <thead><tr>
                                                <th>{t!(i18n, apps.name)}</th><th>{t!(i18n, apps.sdk_app_id)}</th>
                                                <th>{t!(i18n, apps.status)}</th><th>{t!(i18n, apps.created)}</th>
                                            </tr></thead>
                                            <tbody>{rows}</tbody>
                                        </table>
                                    </div>
                                }
                                .into_any()
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
                <section class="panel">
                    <h2>{t!(i18n, apps.create_heading)}</h2>
                    <ActionForm action=create attr:class="form narrow">
                        <FormAlert error/>
                        <Field label=move || td_string!(i18n.get_locale(), apps.name) name="name" error/>
                        <Field label=move || td_string!(i18n.get_locale(), apps.callback_url) name="callback_url" kind="url" required=false
                            hint=move || td_string!(i18n.get_locale(), apps.callback_hint) error/>
                        <Field label=move || td_string!(i18n.get_locale(), apps.description) name="description" required=false error/>
                        <button type="submit" class="primary">{t!(i18n, apps.create)}</button>
                    </ActionForm>
                </section>
            </section>
        </Guard>
    }
}

#[component]
pub fn ApplicationPage() -> impl IntoView {
    let id = Signal::derive(use_id_param());
    let update = ServerAction::<UpdateApplication>::new();
    let choose_carrier = ServerAction::<SetApplicationCarrier>::new();
    let app = Resource::new(
        move || {
            (
                id.get(),
                update.version().get(),
                choose_carrier.version().get(),
            )
        },
        |(id, _, _)| get_application(id),
    );
    let carriers = Resource::new(|| (), |_| crate::carriers::api::list_carriers());
    let error = action_error(update);
    let carrier_error = action_error(choose_carrier);
    let i18n = use_i18n();
    view! {
        <Title text=move || td_string!(i18n.get_locale(), apps.page_title)/>
        <Guard area=Area::Applications>
            <section class="page">
                <p><A href="/applications">{t!(i18n, apps.back)}</A></p>
                <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            let carriers = carriers.await?;
                            app.await.map(|a| {
                                let (enabled, created) = (a.enabled, a.created_at);
                                view! {
                                <h1>{a.name.clone()}</h1>
                                <dl class="facts">
                                    <dt>{t!(i18n, apps.sdk_app_id)}</dt><dd><code>{a.sdk_app_id}</code></dd>
                                    <dt>{t!(i18n, apps.status)}</dt><dd>{move || enabled_name(i18n.get_locale(), enabled)}</dd>
                                    <dt>{t!(i18n, apps.receipt_endpoint)}</dt><dd><code>{a.receipt_path.clone()}</code>
                                        <span class="hint">" "{t!(i18n, apps.receipt_endpoint_hint)}</span></dd>
                                    <dt>{t!(i18n, apps.created)}</dt><dd>{move || date_time_minutes(i18n.get_locale(), created)}</dd>
                                </dl>
                                <h2>{t!(i18n, apps.edit)}</h2>
                                <ActionForm action=update attr:class="form narrow">
                                    <FormAlert error succeeded=action_succeeded(update)
                                        success_text=move || td_string!(i18n.get_locale(), apps.saved)/>
                                    <input type="hidden" name="id" value=a.id/>
                                    <Field label=move || td_string!(i18n.get_locale(), apps.name) name="name" value=a.name.clone() error/>
                                    <Field label=move || td_string!(i18n.get_locale(), apps.callback_url) name="callback_url" kind="url" required=false
                                        value=a.callback_url.clone().unwrap_or_default() error/>
                                    <Field label=move || td_string!(i18n.get_locale(), apps.description) name="description" required=false
                                        value=a.description.clone() error/>
                                    <label class="choice">
                                        <input type="checkbox" name="enabled" checked=a.enabled/>
                                        {t!(i18n, apps.enabled_choice)}
                                    </label>
                                    <button type="submit" class="primary">{t!(i18n, apps.save)}</button>
                                </ActionForm>
                                <h2>{t!(i18n, apps.carrier)}</h2>
                                <ActionForm action=choose_carrier attr:class="form narrow">
                                    <FormAlert error=carrier_error succeeded=action_succeeded(choose_carrier)
                                        success_text=move || td_string!(i18n.get_locale(), apps.carrier_saved)/>
                                    <input type="hidden" name="id" value=a.id/>
                                    <div class="field">
                                        <label for="app-carrier">{t!(i18n, apps.goes_through)}</label>
                                        <select id="app-carrier" name="carrier_id">
                                            <option value="" selected=a.carrier_id.is_none()>{t!(i18n, apps.default_carrier)}</option>
                                            {carriers.iter().map(|c| {
                                                let (name, kind) = (c.name.clone(), c.kind.clone());
                                                let text = move || {
                                                    let kind = crate::carriers::pages::carrier_kind_name(i18n.get_locale(), &kind);
                                                    format!("{name} ({kind})")
                                                };
                                                view! {
                                                    <option value=c.id selected=a.carrier_id == Some(c.id)>{text}</option>
                                                }
                                            }).collect_view()}
                                        </select>
                                        <crate::forms::FieldMessage error=carrier_error name="carrier_id"/>
                                    </div>
                                    <button type="submit">{t!(i18n, apps.save_carrier)}</button>
                                </ActionForm>
                                }
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
                // Beside the application's part, not inside it: a part that waits for the
                // application may be rendered more than once by the server, and resources created
                // in it again would not be the ones the browser finds.
                <ApiKeysSection application_id=id/>
                <crate::limits::pages::FrequencyLimitsSection application_id=id can_change=false/>
                <crate::verify::pages::VerifySection application_id=id/>
            </section>
        </Guard>
    }
}

/// The application's API key pairs: make one (its SecretKey shown once), revoke, last use.
#[component]
fn ApiKeysSection(application_id: Signal<i64>) -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || {
            (
                application_id.get(),
                create.version().get(),
                revoke.version().get(),
            )
        },
        |(application_id, _, _)| list_api_keys(application_id),
    );
    let fresh = Resource::new(
        move || (application_id.get(), create.version().get()),
        |(application_id, _)| take_fresh_api_key(application_id),
    );
    let error = action_error(create);
    let revoke_error = action_error(revoke);
    let i18n = use_i18n();
    view! {
        <h2>{t!(i18n, apps.api_keys)}</h2>
        <p class="hint">{t!(i18n, apps.api_keys_hint)}</p>
        <FormAlert error=revoke_error/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                fresh.await.ok().flatten().map(|pair| view! {
                    <div class="alert alert-ok fresh-key" role="status">
                        <p><strong>{t!(i18n, apps.copy_now)}</strong></p>
                        <p>"SecretId: "<code data-secret-id="">{pair.secret_id}</code></p>
                        <p>"SecretKey: "<code data-secret-key="">{pair.secret_key}</code></p>
                    </div>
                })
            })}
        </Transition>
        <Transition fallback=|| ()>
            <ErrorBoundary fallback=error_view>
                {move || Suspend::new(async move {
                    keys.await.map(|keys| {
                        if keys.is_empty() {
                            return view! { <p class="empty">{t!(i18n, apps.no_keys)}</p> }.into_any();
                        }
                        let rows = keys.into_iter().map(|k| {
                            let (created, last_used) = (k.created_at, k.last_used_at);
                            view! {
                            <tr data-key=k.secret_id.clone()>
                                <td><code>{k.secret_id.clone()}</code></td>
                                <td>{k.created_by.clone().unwrap_or_default()}</td>
                                <td>{move || date_time_minutes(i18n.get_locale(), created)}</td>
                                <td>{move || match last_used {
                                    Some(at) => date_time_minutes(i18n.get_locale(), at),
                                    None => td_string!(i18n.get_locale(), apps.never).to_owned(),
                                }}</td>
                                <td>{match k.revoked_at {
                                    Some(at) => (move || {
                                        let locale = i18n.get_locale();
                                        td_string!(locale, apps.revoked_at, at = date_time_minutes(locale, at)).to_string()
                                    }).into_any(),
                                    None => view! {
                                        <ActionForm action=revoke attr:class="inline">
                                            <input type="hidden" name="application_id" value=move || application_id.get()/>
                                            <input type="hidden" name="key_id" value=k.id/>
                                            <button type="submit">{t!(i18n, apps.revoke)}</button>
                                        </ActionForm>
                                    }.into_any(),
                                }}</td>
                            </tr>
                            }
                        }).collect_view();
                        view! {
                            <table class="data">
                                <thead><tr>
                                    <th>"SecretId"</th><th>{t!(i18n, apps.created_by)}</th><th>{t!(i18n, apps.created)}</th>
                                    <th>{t!(i18n, apps.last_used)}</th><th></th>
                                </tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        }.into_any()
                    })
                })}
            </ErrorBoundary>
        </Transition>
        <ActionForm action=create attr:class="form narrow">
            <FormAlert error/>
            <input type="hidden" name="application_id" value=move || application_id.get()/>
            <button type="submit">{t!(i18n, apps.create_key)}</button>
        </ActionForm>
    }
}
