use leptos::prelude::*;

use super::api::{
    list_alarm_contacts, AddAlarmContact, DeleteAlarmContact, RedeliverWebhook, SetAlertSms,
    SetBalanceAlert,
};
use super::model::{AlertSms, AlertSmsChoices, DeliveryState};
use crate::error::AppError;
use crate::forms::{action_error, error_view, Field, FieldMessage, FormAlert};
use crate::i18n::{t, td_string, use_i18n, Locale};
use crate::locale::date_time;

/// Settings section: who is alerted, and how the webhook deliveries to them went.
#[component]
pub fn AlarmContactsSection() -> impl IntoView {
    let add = ServerAction::<AddAlarmContact>::new();
    let delete = ServerAction::<DeleteAlarmContact>::new();
    let redeliver = ServerAction::<RedeliverWebhook>::new();
    let threshold = ServerAction::<SetBalanceAlert>::new();
    let sms = ServerAction::<SetAlertSms>::new();
    let data = Resource::new(
        move || {
            (
                add.version().get(),
                delete.version().get(),
                redeliver.version().get(),
                threshold.version().get(),
                sms.version().get(),
            )
        },
        |_| list_alarm_contacts(),
    );
    let error = action_error(add);
    let threshold_error = action_error(threshold);
    let sms_error = action_error(sms);
    let i18n = use_i18n();
    let sep = move || td_string!(i18n.get_locale(), alerts.list_sep);
    view! {
        <h2>{t!(i18n, alerts.heading)}</h2>
        <p class="muted">
            {t!(i18n, alerts.events_1)} <code>"id"</code> {t!(i18n, alerts.events_2)}
            <code>"review.decided"</code> {sep} <code>"task.started"</code> {sep} <code>"task.paused"</code> {sep}
            <code>"task.resumed"</code> {sep} <code>"task.completed"</code> {sep} <code>"task.cancelled"</code> {sep}
            <code>"message.delivered"</code> {t!(i18n, alerts.list_and)} <code>"message.failed"</code> {t!(i18n, alerts.batch_each)}
            <code>"balance.low"</code> {t!(i18n, alerts.events_3)}
            <code>"timestamp.body"</code> {t!(i18n, alerts.events_4)}
            <code>"X-Herald-Timestamp"</code> {sep} <code>"X-Herald-Signature: sha256=…"</code> {t!(i18n, alerts.events_5)}
        </p>
        <Transition fallback=|| ()>
            <ErrorBoundary fallback=error_view>
                {move || Suspend::new(async move {
                    data.await.map(|overview| {
                        let contact_rows = overview
                            .contacts
                            .into_iter()
                            .map(|c| view! {
                                <tr data-contact=c.name.clone()>
                                    <td>{c.name.clone()}</td>
                                    <td>{c.email.clone().unwrap_or_default()}</td>
                                    <td>{c.phone.clone().unwrap_or_default()}</td>
                                    <td>{c.webhook_url.clone().unwrap_or_default()}</td>
                                    <td><code class="secret">{c.webhook_secret.clone().unwrap_or_default()}</code></td>
                                    <td>
                                        <ActionForm action=delete attr:class="inline">
                                            <input type="hidden" name="id" value=c.id/>
                                            <button type="submit">{t!(i18n, alerts.remove)}</button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            })
                            .collect_view();
                        let delivery_rows = overview
                            .deliveries
                            .into_iter()
                            .map(|d| {
                                let class = match &d.state {
                                    DeliveryState::Delivered => "ok",
                                    DeliveryState::Failed => "failed",
                                    DeliveryState::Retrying { attempts, .. } => {
                                        if *attempts > 0 { "failed" } else { "pending" }
                                    }
                                };
                                let delivery_state = d.state.clone();
                                let state = move || {
                                    let locale = i18n.get_locale();
                                    match &delivery_state {
                                        DeliveryState::Delivered => td_string!(locale, alerts.delivered).to_owned(),
                                        DeliveryState::Failed => td_string!(locale, alerts.failed).to_owned(),
                                        DeliveryState::Retrying { attempts, next_attempt_at } => td_string!(
                                            locale,
                                            alerts.retrying,
                                            attempts = *attempts,
                                            next = date_time(locale, *next_attempt_at)
                                        )
                                        .to_string(),
                                    }
                                };
                                let created_at = d.created_at;
                                view! {
                                    <tr class=class>
                                        <td>{move || date_time(i18n.get_locale(), created_at)}</td>
                                        <td>{d.contact.clone()}</td>
                                        <td><code>{d.event_type.clone()}</code></td>
                                        <td>{state}</td>
                                        <td>{d.last_error.clone().unwrap_or_default()}</td>
                                        <td>
                                            <ActionForm action=redeliver attr:class="inline">
                                                <input type="hidden" name="id" value=d.id/>
                                                <button type="submit">{t!(i18n, alerts.redeliver)}</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view();
                        view! {
                            <div class="table-wrap">
                                <table class="data">
                                    <thead><tr>
                                        <th>{t!(i18n, alerts.name)}</th>
                                        <th>{t!(i18n, alerts.email)}</th>
                                        <th>{t!(i18n, alerts.phone)}</th>
                                        <th>{t!(i18n, alerts.webhook)}</th>
                                        <th>{t!(i18n, alerts.secret)}</th>
                                        <th></th>
                                    </tr></thead>
                                    <tbody>{contact_rows}</tbody>
                                </table>
                            </div>
                            <section class="panel">
                                <h3>{t!(i18n, alerts.balance_alert)}</h3>
                                <ActionForm action=threshold attr:class="form narrow">
                                    <FormAlert error=threshold_error/>
                                    <Field
                                        label=move || td_string!(i18n.get_locale(), alerts.threshold_label)
                                        name="balance_low_units"
                                        value=overview.balance_low_units.map(|u| u.to_string()).unwrap_or_default()
                                        required=false
                                        hint=move || td_string!(i18n.get_locale(), alerts.threshold_hint)
                                        error=threshold_error
                                    />
                                    <button type="submit">{t!(i18n, alerts.save_threshold)}</button>
                                </ActionForm>
                            </section>
                            <section class="panel">
                                <h3>{t!(i18n, alerts.sms_alerts)}</h3>
                                <p class="muted">
                                    {t!(i18n, alerts.sms_intro_1)} <code>"{1}"</code> {t!(i18n, alerts.sms_intro_2)}
                                </p>
                                <ActionForm action=sms attr:class="form narrow">
                                    <FormAlert error=sms_error/>
                                    <AlertSmsFields current=overview.sms choices=overview.sms_choices error=sms_error/>
                                    <button type="submit">{t!(i18n, alerts.save_sms)}</button>
                                </ActionForm>
                            </section>
                            <h3>{t!(i18n, alerts.deliveries)}</h3>
                            <div class="table-wrap">
                                <table class="data deliveries">
                                    <thead><tr>
                                        <th>{t!(i18n, alerts.queued)}</th>
                                        <th>{t!(i18n, alerts.contact)}</th>
                                        <th>{t!(i18n, alerts.event)}</th>
                                        <th>{t!(i18n, alerts.state)}</th>
                                        <th>{t!(i18n, alerts.last_error)}</th>
                                        <th></th>
                                    </tr></thead>
                                    <tbody>{delivery_rows}</tbody>
                                </table>
                            </div>
                        }
                    })
                })}
            </ErrorBoundary>
        </Transition>
        <section class="panel">
            <h3>{t!(i18n, alerts.add_heading)}</h3>
            <ActionForm action=add attr:class="form narrow">
                <FormAlert error/>
                <Field label=move || td_string!(i18n.get_locale(), alerts.contact_name) name="name" error/>
                <Field label=move || td_string!(i18n.get_locale(), alerts.contact_email) name="email" kind="email" required=false error/>
                <Field label=move || td_string!(i18n.get_locale(), alerts.contact_phone) name="phone" required=false error/>
                <Field
                    label=move || td_string!(i18n.get_locale(), alerts.webhook_url)
                    name="webhook_url"
                    kind="url"
                    required=false
                    hint=move || td_string!(i18n.get_locale(), alerts.webhook_hint)
                    error
                />
                <button type="submit" class="primary">{t!(i18n, alerts.add)}</button>
            </ActionForm>
        </section>
    }
}

/// The three choices SMS alerts go out through, each a select with a blank "none" first.
#[component]
fn AlertSmsFields(
    current: Option<AlertSms>,
    choices: AlertSmsChoices,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let select = move |name: &'static str,
                       label: fn(Locale) -> &'static str,
                       options: Vec<(i64, String)>,
                       chosen: Option<i64>| {
        let id = format!("field-{name}");
        let options = options
            .into_iter()
            .map(|(value, text)| view! { <option value=value selected=chosen == Some(value)>{text}</option> })
            .collect_view();
        view! {
            <div class="field">
                <label for=id.clone()>{move || label(i18n.get_locale())}</label>
                <select id=id name=name>
                    <option value="">"—"</option>
                    {options}
                </select>
                <FieldMessage error name/>
            </div>
        }
    };
    view! {
        {select(
            "sms_application_id",
            |l| td_string!(l, alerts.alert_application),
            choices.applications,
            current.map(|c| c.application_id),
        )}
        {select(
            "sms_template_id",
            |l| td_string!(l, alerts.alert_template),
            choices.templates,
            current.map(|c| c.template_id),
        )}
        {select(
            "sms_signature_id",
            |l| td_string!(l, alerts.alert_signature),
            choices.signatures,
            current.map(|c| c.signature_id),
        )}
    }
}
