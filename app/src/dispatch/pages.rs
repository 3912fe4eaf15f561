use leptos::prelude::*;

use super::api::{
    list_carriers, AddHttpCarrier, AddTencentCarrier, CarrierView, SetCarrierFailover,
    SetDefaultCarrier, UpdateSimulator,
};
use crate::forms::{action_error, action_succeeded, error_view, Field, FormAlert};

/// Settings: the carriers messages go through, their limits, and which one tasks use.
#[component]
pub fn CarriersSection() -> impl IntoView {
    let add = ServerAction::<AddHttpCarrier>::new();
    let add_tencent = ServerAction::<AddTencentCarrier>::new();
    let update = ServerAction::<UpdateSimulator>::new();
    let make_default = ServerAction::<SetDefaultCarrier>::new();
    let failover = ServerAction::<SetCarrierFailover>::new();
    let carriers = Resource::new(
        move || {
            (
                add.version().get(),
                add_tencent.version().get(),
                update.version().get(),
                make_default.version().get(),
                failover.version().get(),
            )
        },
        |_| list_carriers(),
    );
    let failover_error = action_error(failover);
    let add_error = action_error(add);
    let tencent_error = action_error(add_tencent);
    let update_error = action_error(update);
    view! {
        <h2>"Carriers"</h2>
        <p class="muted">"New tasks go through the default carrier. Limits apply per server process."</p>
        <Transition fallback=|| ()>
            <ErrorBoundary fallback=error_view>
                {move || Suspend::new(async move {
                    carriers.await.map(|list| {
                        let simulators: Vec<CarrierView> = list.iter().filter(|c| c.simulator.is_some()).cloned().collect();
                        let names: Vec<(i64, String)> = list.iter().map(|c| (c.id, c.name.clone())).collect();
                        let carrier_options = names.iter().map(|(id, name)| view! { <option value=*id>{name.clone()}</option> }).collect_view();
                        let failover_options = names.iter().map(|(id, name)| view! { <option value=*id>{name.clone()}</option> }).collect_view();
                        let rows = list.into_iter().map(|c| {
                            let id = c.id;
                            view! {
                                <tr data-carrier=c.name.clone()>
                                    <td>{c.name.clone()}</td>
                                    <td>{c.kind.clone()}</td>
                                    <td>{c.summary.clone()}</td>
                                    <td class="num">{format!("{}/s", c.rate_limit)}</td>
                                    <td class="num">{c.concurrency}</td>
                                    <td>{c.failover.clone().map_or_else(|| "—".to_owned(), |f| format!("{f} after {} refusals", c.failover_after))}</td>
                                    <td><code>{c.receipt_path.clone()}</code></td>
                                    <td>
                                        {if c.is_default {
                                            view! { <strong>"Default"</strong> }.into_any()
                                        } else {
                                            view! {
                                                <ActionForm action=make_default attr:class="inline">
                                                    <input type="hidden" name="id" value=id/>
                                                    <button type="submit">"Make default"</button>
                                                </ActionForm>
                                            }.into_any()
                                        }}
                                    </td>
                                </tr>
                            }
                        }).collect_view();
                        let simulator_forms = simulators.into_iter().filter_map(|c| {
                            let s = c.simulator?;
                            Some(view! {
                                <section class="panel">
                                    <h3>{format!("{} settings", c.name)}</h3>
                                    <ActionForm action=update attr:class="form narrow">
                                        <FormAlert error=update_error success=(action_succeeded(update), "Saved; workers pick it up with their next chunk.")/>
                                        <input type="hidden" name="id" value=c.id/>
                                        <Field label="Latency per call (ms)" name="latency_ms" value=s.latency_ms.to_string() error=update_error/>
                                        <Field label="Accepted share (0–1)" name="accept_rate" value=s.accept_rate.to_string() error=update_error/>
                                        <Field label="Delivered share of accepted (0–1)" name="delivery_rate" value=s.delivery_rate.to_string() error=update_error/>
                                        <Field label="Transient error share of calls (0–1)" name="transient_rate" value=s.transient_rate.to_string() error=update_error/>
                                        <Field label="Receipt delay (ms)" name="receipt_delay_ms" value=s.receipt_delay_ms.to_string() error=update_error/>
                                        <Field label="Messages per second" name="rate_limit" value=s.rate_limit.to_string() error=update_error/>
                                        <Field label="Calls in flight" name="concurrency" value=s.concurrency.to_string() error=update_error/>
                                        <button type="submit">"Save simulator"</button>
                                    </ActionForm>
                                </section>
                            })
                        }).collect_view();
                        view! {
                            <div class="table-wrap">
                                <table class="data">
                                    <thead><tr>
                                        <th>"Name"</th><th>"Kind"</th><th>"Settings"</th><th>"Rate"</th>
                                        <th>"In flight"</th><th>"Failover"</th><th>"Receipt path"</th><th></th>
                                    </tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            </div>
                            {simulator_forms}
                            <section class="panel">
                                <h3>"Failover"</h3>
                                <p class="hint">"After this many refusals in a row (throttling, errors, unreachable) a carrier's batches go to another; it is tried again after 30 seconds. A batch whose outcome is unknown (a timeout) stays with its carrier."</p>
                                <ActionForm action=failover attr:class="form narrow">
                                    <FormAlert error=failover_error success=(action_succeeded(failover), "Failover saved.")/>
                                    <div class="field">
                                        <label for="failover-carrier">"Carrier"</label>
                                        <select id="failover-carrier" name="id">{carrier_options}</select>
                                    </div>
                                    <div class="field">
                                        <label for="failover-to">"Fails over to"</label>
                                        <select id="failover-to" name="failover_id">
                                            <option value="">"No failover"</option>
                                            {failover_options}
                                        </select>
                                        <crate::forms::FieldMessage error=failover_error name="failover_id"/>
                                    </div>
                                    <Field label="After consecutive refusals" name="failover_after" value="3" error=failover_error/>
                                    <button type="submit">"Save failover"</button>
                                </ActionForm>
                            </section>
                        }
                    })
                })}
            </ErrorBoundary>
        </Transition>
        <section class="panel">
            <h3>"Add an HTTP gateway"</h3>
            <p class="hint">"Herald posts signed JSON batches to it (see the README's carrier protocol)."</p>
            <ActionForm action=add attr:class="form narrow">
                <FormAlert error=add_error success=(action_succeeded(add), "Carrier added.")/>
                <Field label="Name" name="name" error=add_error/>
                <Field label="Endpoint URL" name="endpoint" kind="url" error=add_error/>
                <Field label="Shared secret (at least 16 characters)" name="secret" kind="password" error=add_error/>
                <Field label="Messages per second" name="rate_limit" value="100" error=add_error/>
                <Field label="Calls in flight" name="concurrency" value="4" error=add_error/>
                <button type="submit">"Add carrier"</button>
            </ActionForm>
        </section>
        <section class="panel">
            <h3>"Add a Tencent Cloud SMS account"</h3>
            <p class="hint">"Messages are sent with SendSms under the account's API key (the SecretKey is stored encrypted). Set the account's receipt callback to this server's address followed by the carrier's receipt path, or leave it: statuses are also pulled with PullSmsSendStatus. A call that times out is never repeated; its messages wait for a status and fail as Herald.OutcomeUnknown when none comes in the window below."</p>
            <ActionForm action=add_tencent attr:class="form narrow">
                <FormAlert error=tencent_error success=(action_succeeded(add_tencent), "Tencent account added.")/>
                <Field label="Name" name="name" error=tencent_error/>
                <Field label="Endpoint" name="endpoint" kind="url" value=super::model::TENCENT_ENDPOINT error=tencent_error/>
                <Field label="Region" name="region" value=super::model::TENCENT_REGION error=tencent_error/>
                <Field label="SecretId" name="secret_id" error=tencent_error/>
                <Field label="SecretKey" name="secret_key" kind="password" error=tencent_error/>
                <Field label="SmsSdkAppId" name="sdk_app_id" error=tencent_error/>
                <div class="field">
                    <label for="tencent-templates">"Template ids at Tencent (optional)"</label>
                    <textarea id="tencent-templates" name="templates" rows="3" placeholder="12 = 1234567"></textarea>
                    <p class="hint">"One per line: Herald template id = the id Tencent approved the same text under. Unlisted templates are sent under their Herald id."</p>
                    <crate::forms::FieldMessage error=tencent_error name="templates"/>
                </div>
                <Field label="Wait for a status after a timeout (minutes)" name="reconcile_minutes" value="60" error=tencent_error/>
                <Field label="Messages per second" name="rate_limit" value="500" error=tencent_error/>
                <Field label="Calls in flight" name="concurrency" value="4" error=tencent_error/>
                <button type="submit">"Add Tencent account"</button>
            </ActionForm>
        </section>
    }
}
