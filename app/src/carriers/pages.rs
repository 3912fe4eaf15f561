use leptos::prelude::*;

use super::api::{
    list_carriers, AddHttpCarrier, AddTencentCarrier, SetCarrierFailover, SetDefaultCarrier,
    UpdateSimulator,
};
use super::model::CarrierView;
use crate::forms::{action_error, action_succeeded, error_view, Field, FormAlert};
use crate::i18n::{t, td_string, use_i18n, Locale};

/// A carrier's kind (`simulator`, `http`, `tencent`) in the console's language.
pub fn carrier_kind_name(locale: Locale, kind: &str) -> String {
    match kind {
        "simulator" => td_string!(locale, carriers.kind_simulator).to_owned(),
        "http" => td_string!(locale, carriers.kind_http).to_owned(),
        "tencent" => td_string!(locale, carriers.kind_tencent).to_owned(),
        other => other.to_owned(),
    }
}

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
    let i18n = use_i18n();
    view! {
        <h2>{t!(i18n, carriers.heading)}</h2>
        <p class="muted">{t!(i18n, carriers.intro)}</p>
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
                            let (kind, rate, failover, after) =
                                (c.kind.clone(), c.rate_limit, c.failover.clone(), c.failover_after);
                            view! {
                                <tr data-carrier=c.name.clone()>
                                    <td>{c.name.clone()}</td>
                                    <td>{move || carrier_kind_name(i18n.get_locale(), &kind)}</td>
                                    <td>{c.summary.clone()}</td>
                                    <td class="num">{move || td_string!(i18n.get_locale(), carriers.rate, n = rate).to_string()}</td>
                                    <td class="num">{crate::locale::number(c.concurrency.into())}</td>
                                    <td>{move || match &failover {
                                        Some(name) => td_string!(i18n.get_locale(), carriers.failover_value, name, n = after).to_string(),
                                        None => "—".to_owned(),
                                    }}</td>
                                    <td><code>{c.receipt_path.clone()}</code></td>
                                    <td>
                                        {if c.is_default {
                                            view! { <strong>{t!(i18n, carriers.default)}</strong> }.into_any()
                                        } else {
                                            view! {
                                                <ActionForm action=make_default attr:class="inline">
                                                    <input type="hidden" name="id" value=id/>
                                                    <button type="submit">{t!(i18n, carriers.make_default)}</button>
                                                </ActionForm>
                                            }.into_any()
                                        }}
                                    </td>
                                </tr>
                            }
                        }).collect_view();
                        let simulator_forms = simulators.into_iter().filter_map(|c| {
                            let s = c.simulator?;
                            let name = c.name.clone();
                            Some(view! {
                                <section class="panel">
                                    <h3>{t!(i18n, carriers.settings_heading, name = move || name.clone())}</h3>
                                    <ActionForm action=update attr:class="form narrow">
                                        <FormAlert error=update_error succeeded=action_succeeded(update) success_text=move || td_string!(i18n.get_locale(), carriers.simulator_saved)/>
                                        <input type="hidden" name="id" value=c.id/>
                                        <Field label=move || td_string!(i18n.get_locale(), carriers.latency) name="latency_ms" value=s.latency_ms.to_string() form=format!("simulator-{}", c.id) error=update_error/>
                                        <Field label=move || td_string!(i18n.get_locale(), carriers.accept_rate) name="accept_rate" value=s.accept_rate.to_string() form=format!("simulator-{}", c.id) error=update_error/>
                                        <Field label=move || td_string!(i18n.get_locale(), carriers.delivery_rate) name="delivery_rate" value=s.delivery_rate.to_string() form=format!("simulator-{}", c.id) error=update_error/>
                                        <Field label=move || td_string!(i18n.get_locale(), carriers.transient_rate) name="transient_rate" value=s.transient_rate.to_string() form=format!("simulator-{}", c.id) error=update_error/>
                                        <Field label=move || td_string!(i18n.get_locale(), carriers.receipt_delay) name="receipt_delay_ms" value=s.receipt_delay_ms.to_string() form=format!("simulator-{}", c.id) error=update_error/>
                                        <Field label=move || td_string!(i18n.get_locale(), carriers.rate_limit) name="rate_limit" value=s.rate_limit.to_string() form=format!("simulator-{}", c.id) error=update_error/>
                                        <Field label=move || td_string!(i18n.get_locale(), carriers.concurrency) name="concurrency" value=s.concurrency.to_string() form=format!("simulator-{}", c.id) error=update_error/>
                                        <button type="submit">{t!(i18n, carriers.save_simulator)}</button>
                                    </ActionForm>
                                </section>
                            })
                        }).collect_view();
                        view! {
                            <div class="table-wrap">
                                <table class="data">
                                    <thead><tr>
                                        <th>{t!(i18n, carriers.name)}</th>
                                        <th>{t!(i18n, carriers.kind)}</th>
                                        <th>{t!(i18n, carriers.settings)}</th>
                                        <th>{t!(i18n, carriers.rate_col)}</th>
                                        <th>{t!(i18n, carriers.in_flight)}</th>
                                        <th>{t!(i18n, carriers.failover)}</th>
                                        <th>{t!(i18n, carriers.receipt_path)}</th>
                                        <th></th>
                                    </tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            </div>
                            {simulator_forms}
                            <section class="panel">
                                <h3>{t!(i18n, carriers.failover)}</h3>
                                <p class="hint">{t!(i18n, carriers.failover_hint)}</p>
                                <ActionForm action=failover attr:class="form narrow">
                                    <FormAlert error=failover_error succeeded=action_succeeded(failover) success_text=move || td_string!(i18n.get_locale(), carriers.failover_saved)/>
                                    <div class="field">
                                        <label for="failover-carrier">{t!(i18n, carriers.carrier)}</label>
                                        <select id="failover-carrier" name="id">{carrier_options}</select>
                                    </div>
                                    <div class="field">
                                        <label for="failover-to">{t!(i18n, carriers.fails_over_to)}</label>
                                        <select id="failover-to" name="failover_id">
                                            <option value="">{t!(i18n, carriers.no_failover)}</option>
                                            {failover_options}
                                        </select>
                                        <crate::forms::FieldMessage error=failover_error name="failover_id"/>
                                    </div>
                                    <Field label=move || td_string!(i18n.get_locale(), carriers.after_refusals) name="failover_after" value="3" error=failover_error/>
                                    <button type="submit">{t!(i18n, carriers.save_failover)}</button>
                                </ActionForm>
                            </section>
                        }
                    })
                })}
            </ErrorBoundary>
        </Transition>
        <section class="panel">
            <h3>{t!(i18n, carriers.add_http)}</h3>
            <p class="hint">{t!(i18n, carriers.add_http_hint)}</p>
            <ActionForm action=add attr:class="form narrow">
                <FormAlert error=add_error succeeded=action_succeeded(add) success_text=move || td_string!(i18n.get_locale(), carriers.carrier_added)/>
                <Field label=move || td_string!(i18n.get_locale(), carriers.name) name="name" form="http" error=add_error/>
                <Field label=move || td_string!(i18n.get_locale(), carriers.endpoint_url) name="endpoint" kind="url" form="http" error=add_error/>
                <Field label=move || td_string!(i18n.get_locale(), carriers.shared_secret) name="secret" kind="password" form="http" error=add_error/>
                <Field label=move || td_string!(i18n.get_locale(), carriers.rate_limit) name="rate_limit" value="100" form="http" error=add_error/>
                <Field label=move || td_string!(i18n.get_locale(), carriers.concurrency) name="concurrency" value="4" form="http" error=add_error/>
                <button type="submit">{t!(i18n, carriers.add_carrier)}</button>
            </ActionForm>
        </section>
        <section class="panel">
            <h3>{t!(i18n, carriers.add_tencent)}</h3>
            <p class="hint">{t!(i18n, carriers.add_tencent_hint)}</p>
            <ActionForm action=add_tencent attr:class="form narrow">
                <FormAlert error=tencent_error succeeded=action_succeeded(add_tencent) success_text=move || td_string!(i18n.get_locale(), carriers.tencent_added)/>
                <Field label=move || td_string!(i18n.get_locale(), carriers.name) name="name" form="tencent" error=tencent_error/>
                <Field label=move || td_string!(i18n.get_locale(), carriers.endpoint) name="endpoint" kind="url" value=super::model::TENCENT_ENDPOINT form="tencent" error=tencent_error/>
                <Field label=move || td_string!(i18n.get_locale(), carriers.region) name="region" value=super::model::TENCENT_REGION form="tencent" error=tencent_error/>
                <Field label="SecretId" name="secret_id" form="tencent" error=tencent_error/>
                <Field label="SecretKey" name="secret_key" kind="password" form="tencent" error=tencent_error/>
                <Field label="SmsSdkAppId" name="sdk_app_id" form="tencent" error=tencent_error/>
                <div class="field">
                    <label for="tencent-templates">{t!(i18n, carriers.tencent_templates)}</label>
                    <textarea id="tencent-templates" name="templates" rows="3" placeholder="12 = 1234567"></textarea>
                    <p class="hint">{t!(i18n, carriers.tencent_templates_hint)}</p>
                    <crate::forms::FieldMessage error=tencent_error name="templates"/>
                </div>
                <Field label=move || td_string!(i18n.get_locale(), carriers.reconcile) name="reconcile_minutes" value="60" form="tencent" error=tencent_error/>
                <Field label=move || td_string!(i18n.get_locale(), carriers.rate_limit) name="rate_limit" value="500" form="tencent" error=tencent_error/>
                <Field label=move || td_string!(i18n.get_locale(), carriers.concurrency) name="concurrency" value="4" form="tencent" error=tencent_error/>
                <button type="submit">{t!(i18n, carriers.add_tencent_button)}</button>
            </ActionForm>
        </section>
    }
}
