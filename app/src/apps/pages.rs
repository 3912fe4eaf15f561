use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::api::{
    get_application, list_api_keys, list_applications, take_fresh_api_key, CreateApiKey,
    CreateApplication, RevokeApiKey, SetApplicationCarrier, UpdateApplication,
};
use crate::forms::{action_error, action_succeeded, error_view, use_id_param, Field, FormAlert};
use crate::shell::{Area, Guard};

#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let create = ServerAction::<CreateApplication>::new();
    let apps = Resource::new(move || create.version().get(), |_| list_applications());
    let error = action_error(create);
    view! {
        <Title text="Applications"/>
        <Guard area=Area::Applications>
            <section class="page">
                <h1>"Applications"</h1>
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            apps.await.map(|apps| {
                                if apps.is_empty() {
                                    return view! { <p class="empty">"No applications yet. Create one below to get an SmsSdkAppId."</p> }.into_any();
                                }
                                let rows = apps
                                    .into_iter()
                                    .map(|a| view! {
                                        <tr>
                                            <td><A href=format!("/applications/{}", a.id)>{a.name}</A></td>
                                            <td><code>{a.sdk_app_id}</code></td>
                                            <td>{if a.enabled { "Enabled" } else { "Disabled" }}</td>
                                            <td>{a.created_at.format("%Y-%m-%d").to_string()}</td>
                                        </tr>
                                    })
                                    .collect_view();
                                view! {
                                    <div class="table-wrap">
                                        <table class="data">
                                            <thead><tr><th>"Name"</th><th>"SmsSdkAppId"</th><th>"Status"</th><th>"Created"</th></tr></thead>
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
                    <h2>"Create an application"</h2>
                    <ActionForm action=create attr:class="form narrow">
                        <FormAlert error/>
                        <Field label="Name" name="name" error/>
                        <Field label="Receipt callback URL" name="callback_url" kind="url" required=false
                            hint="Optional. Delivery receipts are POSTed here." error/>
                        <Field label="Description" name="description" required=false error/>
                        <button type="submit" class="primary">"Create application"</button>
                    </ActionForm>
                </section>
            </section>
        </Guard>
    }
}

#[component]
pub fn ApplicationPage() -> impl IntoView {
    let id = use_id_param();
    let update = ServerAction::<UpdateApplication>::new();
    let choose_carrier = ServerAction::<SetApplicationCarrier>::new();
    let app = Resource::new(
        move || (id(), update.version().get(), choose_carrier.version().get()),
        |(id, _, _)| get_application(id),
    );
    let carriers = Resource::new(|| (), |_| crate::dispatch::api::list_carriers());
    let error = action_error(update);
    let carrier_error = action_error(choose_carrier);
    view! {
        <Title text="Application"/>
        <Guard area=Area::Applications>
            <section class="page">
                <p><A href="/applications">"← Applications"</A></p>
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            let carriers = carriers.await?;
                            app.await.map(|a| view! {
                                <h1>{a.name.clone()}</h1>
                                <dl class="facts">
                                    <dt>"SmsSdkAppId"</dt><dd><code>{a.sdk_app_id}</code></dd>
                                    <dt>"Status"</dt><dd>{if a.enabled { "Enabled" } else { "Disabled" }}</dd>
                                    <dt>"Receipt endpoint"</dt><dd><code>{a.receipt_path.clone()}</code>
                                        <span class="hint">" Tencent's callback format or Herald's generic one; or sign with X-Herald-Signature using the last part as the key."</span></dd>
                                    <dt>"Created"</dt><dd>{a.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</dd>
                                </dl>
                                <h2>"Edit"</h2>
                                <ActionForm action=update attr:class="form narrow">
                                    <FormAlert error success=(action_succeeded(update), "Saved.")/>
                                    <input type="hidden" name="id" value=a.id/>
                                    <Field label="Name" name="name" value=a.name.clone() error/>
                                    <Field label="Receipt callback URL" name="callback_url" kind="url" required=false
                                        value=a.callback_url.clone().unwrap_or_default() error/>
                                    <Field label="Description" name="description" required=false value=a.description.clone() error/>
                                    <label class="choice">
                                        <input type="checkbox" name="enabled" checked=a.enabled/>
                                        "Enabled (a disabled application cannot send)"
                                    </label>
                                    <button type="submit" class="primary">"Save"</button>
                                </ActionForm>
                                <h2>"Carrier"</h2>
                                <ActionForm action=choose_carrier attr:class="form narrow">
                                    <FormAlert error=carrier_error success=(action_succeeded(choose_carrier), "Carrier saved; new tasks use it.")/>
                                    <input type="hidden" name="id" value=a.id/>
                                    <div class="field">
                                        <label for="app-carrier">"Messages go through"</label>
                                        <select id="app-carrier" name="carrier_id">
                                            <option value="" selected=a.carrier_id.is_none()>"The default carrier"</option>
                                            {carriers.iter().map(|c| view! {
                                                <option value=c.id selected=a.carrier_id == Some(c.id)>
                                                    {format!("{} ({})", c.name, c.kind)}
                                                </option>
                                            }).collect_view()}
                                        </select>
                                        <crate::forms::FieldMessage error=carrier_error name="carrier_id"/>
                                    </div>
                                    <button type="submit">"Save carrier"</button>
                                </ActionForm>
                                <ApiKeysSection application_id=a.id/>
                                <crate::limits::pages::FrequencyLimitsSection application_id=a.id can_change=false/>
                                <crate::verify::pages::VerifySection application_id=a.id/>
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
            </section>
        </Guard>
    }
}

/// The application's API key pairs: make one (its SecretKey shown once), revoke, last use.
#[component]
fn ApiKeysSection(application_id: i64) -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        move |_| list_api_keys(application_id),
    );
    let fresh = Resource::new(
        move || create.version().get(),
        move |_| take_fresh_api_key(application_id),
    );
    let error = action_error(create);
    let revoke_error = action_error(revoke);
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(
            || "never".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
    };
    view! {
        <h2>"API keys"</h2>
        <p class="hint">"Sign Tencent Cloud SMS API calls (TC3-HMAC-SHA256) with a SecretId and SecretKey; the official SDKs work unchanged."</p>
        <FormAlert error=revoke_error/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                fresh.await.ok().flatten().map(|pair| view! {
                    <div class="alert alert-ok fresh-key" role="status">
                        <p><strong>"Copy the SecretKey now: it is not shown again."</strong></p>
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
                            return view! { <p class="empty">"No API keys yet."</p> }.into_any();
                        }
                        let rows = keys.into_iter().map(|k| view! {
                            <tr data-key=k.secret_id.clone()>
                                <td><code>{k.secret_id.clone()}</code></td>
                                <td>{k.created_by.clone().unwrap_or_default()}</td>
                                <td>{k.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</td>
                                <td>{when(k.last_used_at)}</td>
                                <td>{match k.revoked_at {
                                    Some(at) => format!("Revoked {}", at.format("%Y-%m-%d %H:%M UTC")).into_any(),
                                    None => view! {
                                        <ActionForm action=revoke attr:class="inline">
                                            <input type="hidden" name="application_id" value=application_id/>
                                            <input type="hidden" name="key_id" value=k.id/>
                                            <button type="submit">"Revoke"</button>
                                        </ActionForm>
                                    }.into_any(),
                                }}</td>
                            </tr>
                        }).collect_view();
                        view! {
                            <table class="data">
                                <thead><tr><th>"SecretId"</th><th>"Created by"</th><th>"Created"</th><th>"Last used"</th><th></th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        }.into_any()
                    })
                })}
            </ErrorBoundary>
        </Transition>
        <ActionForm action=create attr:class="form narrow">
            <FormAlert error/>
            <input type="hidden" name="application_id" value=application_id/>
            <button type="submit">"Create API key"</button>
        </ActionForm>
    }
}
