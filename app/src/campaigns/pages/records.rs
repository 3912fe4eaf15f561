//! Delivery records: the tasks, each with its live progress, analytics and recipients.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

use crate::accounts::frame::{Area, Guard};
use crate::campaigns::api::{get_task_detail, list_tasks, ChangeTask};
use crate::campaigns::model::{percent_done, TaskStatus, TaskSummary};
use crate::dispatch::api::get_task_progress;
use crate::forms::{
    action_error, encode_query_value, error_view, poll_again, use_id_param, FormAlert,
};
use crate::i18n::{t, td_string, use_i18n};
use crate::locale::{date_time, number, zone_label};
use crate::templates::pages::sms_type_name;

#[component]
pub fn DeliveryRecordsPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let change = ServerAction::<ChangeTask>::new();
    let param = move |name: &'static str| move || query.with(|q| q.get(name));
    // Refreshed every two seconds while a listed task is sending or about to.
    let (tick, set_tick) = signal(0u32);
    let polling = StoredValue::new(false);
    let tasks = Resource::new(
        move || {
            (
                param("status")(),
                param("from")(),
                param("until")(),
                param("after")(),
                (change.version().get(), tick.get()),
            )
        },
        |(status, from, until, after, _)| list_tasks(status, from, until, None, after),
    );
    let error = action_error(change);
    let status_options = move || {
        let current = param("status")().unwrap_or_default();
        std::iter::once(view! { <option value="" selected=current.is_empty()>{t!(i18n, records.any)}</option> }.into_any())
            .chain(TaskStatus::ALL.into_iter().map(|s| {
                view! { <option value=s.as_str() selected=current == s.as_str()>{move || s.name(i18n.get_locale())}</option> }.into_any()
            }))
            .collect_view()
    };
    view! {
        <Title text=move || td_string!(i18n.get_locale(), records.title)/>
        <Guard area=Area::DeliveryRecords>
            <section class="page">
                <div class="page-head">
                    <h1>{t!(i18n, records.title)}</h1>
                    <A href="/bulk" attr:class="button primary">{t!(i18n, records.new_task)}</A>
                </div>
                <Form method="GET" action="" attr:class="filters">
                    <label>{t!(i18n, records.status)} <select name="status">{status_options}</select></label>
                    <label>{t!(i18n, records.created_from)} <input type="date" name="from" value=param("from")/></label>
                    <label>{t!(i18n, records.created_to)} <input type="date" name="until" value=param("until")/></label>
                    <span class="muted">{move || zone_label(i18n.get_locale())}</span>
                    <button type="submit">{t!(i18n, records.filter)}</button>
                </Form>
                <FormAlert error/>
                <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            tasks.await.map(|page| {
                                // A scheduled task starts on its own: the list follows it.
                                if page.tasks.iter().any(|t| matches!(t.status, TaskStatus::Sending | TaskStatus::Scheduled)) {
                                    poll_again(polling, set_tick, 2000);
                                }
                                let units = page.available_units;
                                let balance = view! {
                                    <p class="muted" data-balance=units>
                                        {t!(i18n, records.balance, units = number(units))}
                                    </p>
                                };
                                if page.tasks.is_empty() {
                                    return view! { {balance} <p class="empty">{t!(i18n, records.empty)}</p> }.into_any();
                                }
                                let rows = page.tasks.into_iter().map(|t| view! { <TaskRow task=t change/> }).collect_view();
                                let next = page.next.map(|cursor| {
                                    let mut href = format!("/records?after={}", encode_query_value(&cursor));
                                    for name in ["status", "from", "until"] {
                                        if let Some(v) = query.with_untracked(|q| q.get(name)) {
                                            href.push_str(&format!("&{name}={}", encode_query_value(&v)));
                                        }
                                    }
                                    view! { <A href=href attr:class="more">{t!(i18n, records.more)}</A> }
                                });
                                view! {
                                    {balance}
                                    <div class="table-wrap">
                                        <table class="data">
                                            <thead><tr>
                                                <th>{t!(i18n, records.task)}</th><th>{t!(i18n, records.application)}</th>
                                                <th>{t!(i18n, records.signature)}</th><th>{t!(i18n, records.template)}</th>
                                                <th>{t!(i18n, records.send_time_china)}</th><th>{t!(i18n, records.status)}</th>
                                                <th class="num">{t!(i18n, records.recipients)}</th><th class="num">{t!(i18n, records.sent)}</th>
                                                <th class="num">{t!(i18n, records.delivered)}</th><th class="num">{t!(i18n, records.failed)}</th>
                                                <th>{t!(i18n, records.progress)}</th>
                                                <th>{t!(i18n, records.creator)}</th><th></th>
                                            </tr></thead>
                                            <tbody>{rows}</tbody>
                                        </table>
                                    </div>
                                    {next}
                                }.into_any()
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
            </section>
        </Guard>
    }
}

#[component]
fn TaskRow(task: TaskSummary, change: ServerAction<ChangeTask>) -> impl IntoView {
    let i18n = use_i18n();
    let id = task.id;
    let name = task.name.clone();
    let send_at = task.send_at;
    view! {
        <tr data-task=name>
            <td><A href=format!("/records/{id}")>{task.name.clone()}</A></td>
            <td>{task.application.clone()}</td>
            <td>{task.signature.clone()}</td>
            <td>{task.template.clone()}</td>
            <td class="nowrap">{move || date_time(i18n.get_locale(), send_at)}</td>
            <td><TaskStatusBadge status=task.status reason=task.status_reason.clone()/></td>
            <td class="num" data-figure="recipients">{number(task.recipients)}</td>
            <td class="num" data-figure="sent">{number(task.sent)}</td>
            <td class="num" data-figure="delivered">{number(task.delivered)}</td>
            <td class="num" data-figure="failed">{number(task.failed)}</td>
            <td><TaskProgressBar status=task.status recipients=task.recipients sent=task.sent refused=task.refused/></td>
            <td>{task.created_by.clone()}</td>
            <td class="nowrap"><TaskActions id status=task.status change/></td>
        </tr>
    }
}

/// How far a task has got: the recipients dealt with while it runs; a task that ended says so.
#[component]
fn TaskProgressBar(status: TaskStatus, recipients: i64, sent: i64, refused: i64) -> impl IntoView {
    let i18n = use_i18n();
    let percent = percent_done(status, recipients, sent, refused);
    let label = move || {
        let locale = i18n.get_locale();
        match status {
            TaskStatus::Completed | TaskStatus::Cancelled | TaskStatus::Failed if refused > 0 => {
                td_string!(
                    locale,
                    records.done_with_refusals,
                    sent = number(sent),
                    refused = number(refused)
                )
                .to_string()
            }
            TaskStatus::Completed | TaskStatus::Cancelled | TaskStatus::Failed => {
                td_string!(locale, records.done_sent, sent = number(sent)).to_string()
            }
            _ => td_string!(
                locale,
                records.dealt_with,
                done = number(sent + refused),
                total = number(recipients)
            )
            .to_string(),
        }
    };
    view! { <Progress percent label/> }
}

#[component]
fn TaskStatusBadge(status: TaskStatus, reason: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <span class=format!("status task-{}", status.as_str()) data-status=status.as_str() title=reason>
            {move || status.name(i18n.get_locale())}
        </span>
    }
}

#[component]
fn Progress(percent: i64, #[prop(into)] label: TextProp) -> impl IntoView {
    view! {
        <div class="progress small" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent>
            <div class="progress-bar" style=format!("width: {percent}%")></div>
            <span>{move || label.get()}</span>
        </div>
    }
}

#[component]
fn TaskActions(id: i64, status: TaskStatus, change: ServerAction<ChangeTask>) -> impl IntoView {
    let i18n = use_i18n();
    let form = move |action: &'static str, label: AnyView, class: &'static str| {
        view! {
            <ActionForm action=change attr:class="inline">
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="action" value=action/>
                <button type="submit" class=class>{label}</button>
            </ActionForm>
        }
    };
    // Cancelling stops a whole campaign for good: it asks first (a disclosure, so it works
    // without JavaScript too).
    let cancel = move || {
        view! {
            <details class="confirm">
                <summary class="button">{t!(i18n, records.cancel)}</summary>
                <div class="confirm-body" role="alertdialog" aria-label=move || td_string!(i18n.get_locale(), records.cancel_question)>
                    <p>{t!(i18n, records.cancel_question)}</p>
                    {form("cancel", t!(i18n, records.cancel_yes).into_any(), "danger")}
                </div>
            </details>
        }
    };
    view! {
        {status.pause().is_ok().then(|| form("pause", t!(i18n, records.pause).into_any(), ""))}
        {status.resume().is_ok().then(|| form("resume", t!(i18n, records.resume).into_any(), ""))}
        {status.cancel().is_ok().then(cancel)}
    }
}

/// While a task sends, its analytics are read again every this many progress readings.
const ANALYTICS_EVERY_READINGS: u32 = 5;

#[component]
pub fn TaskPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = Signal::derive(use_id_param());
    let change = ServerAction::<ChangeTask>::new();
    let error = action_error(change);
    let task = Resource::new(
        move || (id.get(), change.version().get()),
        |(id, _)| get_task_detail(id),
    );
    // Every part of the page is created here, not inside a part that waits for the task: the
    // server may render a waiting part more than once, and the browser would then find parts it
    // never created.
    let readings = RwSignal::new(0u32);
    let analytics_refresh = Memo::new(move |_| readings.get() / ANALYTICS_EVERY_READINGS);
    view! {
        <Title text=move || td_string!(i18n.get_locale(), records.task_title)/>
        <Guard area=Area::DeliveryRecords>
            <section class="page">
                <p><A href="/records">{t!(i18n, records.back)}</A></p>
                <FormAlert error/>
                <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            task.await.map(|detail| {
                                let t = detail.summary;
                                view! {
                                    <div class="page-head">
                                        <h1>{t.name.clone()}</h1>
                                        <div class="actions"><TaskActions id=t.id status=t.status change/></div>
                                    </div>
                                }
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
                <LiveProgress id readings changed=change.version()/>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move { task.await.ok().map(task_details) })}
                </Transition>
                <crate::stats::pages::TaskAnalyticsSection id refresh=analytics_refresh.into()/>
                <crate::receipts::pages::RecipientRecords task_id=id/>
            </section>
        </Guard>
    }
}

/// What the task is: when, through what, with which text and file.
fn task_details(detail: crate::campaigns::model::TaskDetail) -> impl IntoView {
    let i18n = use_i18n();
    let t = detail.summary;
    let (sms_type, send_at, created_at) = (t.sms_type, t.send_at, t.created_at);
    let created_by = t.created_by.clone();
    view! {
        <dl class="figures">
            <div><dt>{t!(i18n, records.units_reserved)}</dt><dd data-figure="reserved">{number(t.units_reserved)}</dd></div>
        </dl>
        <table class="data details">
            <tbody>
                <tr><th>{t!(i18n, records.send_time_china)}</th><td>{move || date_time(i18n.get_locale(), send_at)}</td></tr>
                <tr><th>{t!(i18n, records.application)}</th><td>{t.application.clone()}</td></tr>
                <tr><th>{t!(i18n, records.signature)}</th><td>{t.signature.clone()}</td></tr>
                <tr><th>{t!(i18n, records.template)}</th><td>{t.template.clone()}" · "{move || sms_type_name(i18n.get_locale(), sms_type)}</td></tr>
                <tr><th>{t!(i18n, records.content)}</th><td class="content-text">{detail.template_text.clone()}</td></tr>
                <tr><th>{t!(i18n, records.recipient_file)}</th><td>
                    {t!(i18n, records.file_summary, file = detail.file_name.clone(), rows = number(detail.total_rows),
                        removed = number(detail.removed), rejected = number(detail.rejected))}
                    <a href=format!("/bulk/uploads/{}/rejected.csv", detail.upload_id) download>{t!(i18n, records.rows_not_sent)}</a>
                </td></tr>
                <tr><th>{t!(i18n, records.created_by)}</th><td>
                    {t!(i18n, records.created_by_value, who = created_by.clone(),
                        when = move || date_time(i18n.get_locale(), created_at))}
                </td></tr>
            </tbody>
        </table>
    }
}

/// A task's counters, read every second while it is sending (or about to), with the current
/// rate; `readings` counts the readings, for parts of the page that follow along.
#[component]
fn LiveProgress(
    id: Signal<i64>,
    readings: RwSignal<u32>,
    #[prop(into)] changed: Signal<usize>,
) -> impl IntoView {
    let i18n = use_i18n();
    let polling = StoredValue::new(false);
    let progress = Resource::new(
        move || (id.get(), readings.get(), changed.get()),
        |(id, _, _)| get_task_progress(id),
    );
    // The previous reading, to derive messages per second.
    let previous = StoredValue::new(None::<(i64, chrono::DateTime<chrono::Utc>)>);
    view! {
        <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
            {move || Suspend::new(async move {
                progress.await.ok().map(|p| {
                    let rate = previous.get_value().and_then(|(sent, at)| {
                        let seconds = (p.as_of - at).num_milliseconds() as f64 / 1000.0;
                        (seconds > 0.0).then(|| (p.sent - sent) as f64 / seconds)
                    });
                    previous.set_value(Some((p.sent, p.as_of)));
                    if matches!(p.status, TaskStatus::Sending | TaskStatus::Scheduled) {
                        poll_again(polling, readings.write_only(), 1000);
                    }
                    view! {
                        <dl class="figures live">
                            <div><dt>{t!(i18n, records.status)}</dt><dd><TaskStatusBadge status=p.status reason=p.status_reason.clone()/></dd></div>
                            <div><dt>{t!(i18n, records.recipients)}</dt><dd data-figure="recipients">{number(p.recipients)}</dd></div>
                            <div><dt>{t!(i18n, records.sent)}</dt><dd data-figure="sent">{number(p.sent)}</dd></div>
                            <div><dt>{t!(i18n, records.delivered)}</dt><dd data-figure="delivered">{number(p.delivered)}</dd></div>
                            <div><dt>{t!(i18n, records.failed)}</dt><dd data-figure="failed">{number(p.failed)}</dd></div>
                            <div><dt>{t!(i18n, records.units_used)}</dt><dd data-figure="used">{number(p.units_used)}</dd></div>
                            <div><dt>{t!(i18n, records.rate)}</dt><dd data-figure="rate">{move || rate.map_or_else(|| "—".to_owned(), |r| {
                                td_string!(i18n.get_locale(), records.per_second, n = number(r.round() as i64)).to_string()
                            })}</dd></div>
                        </dl>
                        <TaskProgressBar status=p.status recipients=p.recipients sent=p.sent refused=p.refused/>
                        {p.status_reason.clone().map(|r| view! { <p class="alert alert-error">{r}</p> })}
                    }
                })
            })}
        </Transition>
    }
}
