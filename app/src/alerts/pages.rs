use leptos::prelude::*;

use super::api::{
    list_alarm_contacts, AddAlarmContact, DeleteAlarmContact, RedeliverWebhook, SetAlertSms,
    SetBalanceAlert,
};
use super::model::{AlertSms, AlertSmsChoices, DeliveryState};
use crate::error::AppError;
use crate::forms::{action_error, error_view, Field, FieldMessage, FormAlert};

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
    view! {
        <h2>"Alarm contacts"</h2>
        <p class="muted">
            "Events are POSTed as JSON (with an event " <code>"id"</code> ") to each contact's webhook: "
            <code>"review.decided"</code> ", " <code>"task.started"</code> ", " <code>"task.paused"</code> ", "
            <code>"task.resumed"</code> ", " <code>"task.completed"</code> ", " <code>"task.cancelled"</code> ", "
            <code>"message.delivered"</code> " and " <code>"message.failed"</code> " (a batch of messages each), "
            <code>"balance.low"</code> ". Each is signed with HMAC-SHA256 of "
            <code>"timestamp.body"</code> " under the contact's secret (headers "
            <code>"X-Herald-Timestamp"</code> ", " <code>"X-Herald-Signature: sha256=…"</code> ") and retried with backoff."
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
                                            <button type="submit">"Remove"</button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            })
                            .collect_view();
                        let delivery_rows = overview
                            .deliveries
                            .into_iter()
                            .map(|d| {
                                let (state, class) = match &d.state {
                                    DeliveryState::Delivered => ("Delivered".to_owned(), "ok"),
                                    DeliveryState::Failed => ("Failed (gave up)".to_owned(), "failed"),
                                    DeliveryState::Retrying { attempts, next_attempt_at } => (
                                        format!("Retrying after {attempts} attempt(s), next {}", next_attempt_at.format("%H:%M:%S UTC")),
                                        if *attempts > 0 { "failed" } else { "pending" },
                                    ),
                                };
                                view! {
                                    <tr class=class>
                                        <td>{d.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</td>
                                        <td>{d.contact.clone()}</td>
                                        <td><code>{d.event_type.clone()}</code></td>
                                        <td>{state}</td>
                                        <td>{d.last_error.clone().unwrap_or_default()}</td>
                                        <td>
                                            <ActionForm action=redeliver attr:class="inline">
                                                <input type="hidden" name="id" value=d.id/>
                                                <button type="submit">"Redeliver"</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view();
                        view! {
                            <div class="table-wrap">
                                <table class="data">
                                    <thead><tr><th>"Name"</th><th>"E-mail"</th><th>"Phone"</th><th>"Webhook"</th><th>"Secret"</th><th></th></tr></thead>
                                    <tbody>{contact_rows}</tbody>
                                </table>
                            </div>
                            <section class="panel">
                                <h3>"Balance alert"</h3>
                                <ActionForm action=threshold attr:class="form narrow">
                                    <FormAlert error=threshold_error/>
                                    <Field
                                        label="Alert when available units fall below"
                                        name="balance_low_units"
                                        value=overview.balance_low_units.map(|u| u.to_string()).unwrap_or_default()
                                        required=false
                                        hint="Reported once each time the balance falls below it (balance.low). Blank: no alert."
                                        error=threshold_error
                                    />
                                    <button type="submit">"Save threshold"</button>
                                </ActionForm>
                            </section>
                            <section class="panel">
                                <h3>"SMS alerts"</h3>
                                <p class="muted">
                                    "A low balance and a task paused for failures are also sent by SMS to every contact's phone, "
                                    "through an application, an approved template whose one placeholder " <code>"{1}"</code>
                                    " receives the alert's text, and an approved signature. Leave all three blank for no SMS."
                                </p>
                                <ActionForm action=sms attr:class="form narrow">
                                    <FormAlert error=sms_error/>
                                    <AlertSmsFields current=overview.sms choices=overview.sms_choices error=sms_error/>
                                    <button type="submit">"Save SMS alerts"</button>
                                </ActionForm>
                            </section>
                            <h3>"Webhook deliveries"</h3>
                            <div class="table-wrap">
                                <table class="data deliveries">
                                    <thead><tr><th>"Queued"</th><th>"Contact"</th><th>"Event"</th><th>"State"</th><th>"Last error"</th><th></th></tr></thead>
                                    <tbody>{delivery_rows}</tbody>
                                </table>
                            </div>
                        }
                    })
                })}
            </ErrorBoundary>
        </Transition>
        <section class="panel">
            <h3>"Add an alarm contact"</h3>
            <ActionForm action=add attr:class="form narrow">
                <FormAlert error/>
                <Field label="Contact name" name="name" error/>
                <Field label="Contact e-mail" name="email" kind="email" required=false error/>
                <Field label="Contact phone" name="phone" required=false error/>
                <Field label="Webhook URL" name="webhook_url" kind="url" required=false hint="A signing secret is generated for it." error/>
                <button type="submit" class="primary">"Add contact"</button>
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
    let select = move |name: &'static str,
                       label: &'static str,
                       options: Vec<(i64, String)>,
                       chosen: Option<i64>| {
        let id = format!("field-{name}");
        let options = options
            .into_iter()
            .map(|(value, text)| view! { <option value=value selected=chosen == Some(value)>{text}</option> })
            .collect_view();
        view! {
            <div class="field">
                <label for=id.clone()>{label}</label>
                <select id=id name=name>
                    <option value="">"—"</option>
                    {options}
                </select>
                <FieldMessage error name/>
            </div>
        }
    };
    view! {
        {select("sms_application_id", "Alert application", choices.applications, current.map(|c| c.application_id))}
        {select("sms_template_id", "Alert template", choices.templates, current.map(|c| c.template_id))}
        {select("sms_signature_id", "Alert signature", choices.signatures, current.map(|c| c.signature_id))}
    }
}
