use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::api::{
    get_application, list_applications, CreateApplication, SetApplicationCarrier, UpdateApplication,
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
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
            </section>
        </Guard>
    }
}
