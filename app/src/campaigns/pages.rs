use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

use super::api::{
    get_bulk_options, get_marketing_window, get_task_detail, get_upload_report, list_tasks,
    ChangeTask, CheckSendTime, CreateTask, UpdateMarketingWindow,
};
use super::model::{
    percent_done, window_text, TaskStatus, TaskSummary, UploadReport, UploadState,
    COMMON_TIME_ZONES,
};
use crate::dispatch::api::get_task_progress;
use crate::dispatch::api::CarrierView;
use crate::forms::{
    action_error, action_succeeded, encode_query_value, error_view, use_id_param, Field,
    FieldMessage, FormAlert,
};
use crate::i18n::{t, td_string, use_i18n};
use crate::locale::{date_time, number, zone_label};
use crate::shell::{Area, Guard};
use crate::templates::pages::sms_type_name;

/// Step 1: choose what to send and upload the recipients; step 2: the report and confirmation.
#[component]
pub fn BulkSmsPage() -> impl IntoView {
    let query = use_query_map();
    let upload = move || query.with(|q| q.get("upload").and_then(|v| v.parse::<i64>().ok()));
    let i18n = use_i18n();
    view! {
        <Title text=move || td_string!(i18n.get_locale(), bulk.title)/>
        <Guard area=Area::BulkSms>
            <section class="page">
                <div class="page-head">
                    <h1>{t!(i18n, bulk.heading)}</h1>
                    <A href="/records" attr:class="button">{t!(i18n, bulk.delivery_records)}</A>
                </div>
                {move || match upload() {
                    Some(id) => view! { <ReportStep id/> }.into_any(),
                    None => view! { <UploadStep/> }.into_any(),
                }}
            </section>
        </Guard>
    }
}

#[component]
fn UploadStep() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let options = Resource::new(|| (), |_| get_bulk_options());
    // Errors from the upload route come back in the URL (before hydration) or from the upload
    // request itself (after).
    let (upload_error, set_upload_error) = signal(query.with_untracked(|q| {
        q.get("upload_error")
            .map(|message| (q.get("upload_field").unwrap_or_default(), message))
    }));
    let chosen = move |name: &str| query.with_untracked(|q| q.get(name)).unwrap_or_default();
    let (template, set_template) = signal(chosen("template_id"));
    let (progress, set_progress) = signal(None::<u32>);
    let field_error = move |field: &'static str| {
        move || {
            upload_error
                .get()
                .filter(|(f, _)| f == field)
                .map(|(_, m)| view! { <p class="field-error" role="alert">{m}</p> })
        }
    };
    let form_error = move || {
        upload_error
            .get()
            .filter(|(f, _)| {
                !["application_id", "signature_id", "template_id", "file"].contains(&f.as_str())
            })
            .map(|(_, m)| view! { <p class="alert alert-error" role="alert">{m}</p> })
    };
    let navigate = leptos_router::hooks::use_navigate();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        let navigate = navigate.clone();
        let open_report =
            move |id: i64| navigate(&format!("/bulk?upload={id}"), Default::default());
        #[cfg(feature = "hydrate")]
        super::upload_client::send(
            i18n.get_locale_untracked(),
            ev,
            set_progress,
            set_upload_error,
            open_report,
        );
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, set_progress, set_upload_error, open_report);
    };
    view! {
        <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
            <ErrorBoundary fallback=error_view>
                {move || {
                    let on_submit = on_submit.clone();
                    Suspend::new(async move {
                    options.await.map(|options| {
                        if options.templates.is_empty() || options.signatures.is_empty() || options.applications.is_empty() {
                            return view! {
                                <p class="empty">
                                    {t!(i18n, bulk.needs_sources)}
                                    <A href="/templates">{t!(i18n, bulk.templates)}</A>" · "<A href="/signatures">{t!(i18n, bulk.signatures)}</A>
                                </p>
                            }.into_any();
                        }
                        if template.get_untracked().is_empty() {
                            set_template.set(options.templates[0].id.to_string());
                        }
                        let templates = StoredValue::new(options.templates.clone());
                        let selected = move || {
                            let id = template.get();
                            templates.with_value(|ts| ts.iter().find(|t| t.id.to_string() == id).cloned())
                        };
                        let app_options = options.applications.iter().map(|(id, name)| {
                            let selected = chosen("application_id") == id.to_string();
                            view! { <option value=id.to_string() selected=selected>{name.clone()}</option> }
                        }).collect_view();
                        let signature_options = options.signatures.iter().map(|(id, name)| {
                            let selected = chosen("signature_id") == id.to_string();
                            view! { <option value=id.to_string() selected=selected>{name.clone()}</option> }
                        }).collect_view();
                        let template_options = options.templates.iter().map(|t| {
                            let selected = template.get_untracked() == t.id.to_string();
                            view! { <option value=t.id.to_string() selected=selected>{format!("{} ({})", t.name, t.id)}</option> }
                        }).collect_view();
                        let (window_start, window_end) = options.marketing_window.clone();
                        let window = move || window_text(i18n.get_locale(), &window_start, &window_end);
                        view! {
                            <form method="post" action="/bulk/uploads" enctype="multipart/form-data"
                                class="form card" on:submit=on_submit>
                                {form_error}
                                <div class="field">
                                    <label for="bulk-application">{t!(i18n, bulk.application)}</label>
                                    <select id="bulk-application" name="application_id">{app_options}</select>
                                    {field_error("application_id")}
                                </div>
                                <div class="field">
                                    <label for="bulk-signature">{t!(i18n, bulk.signature)}</label>
                                    <select id="bulk-signature" name="signature_id">{signature_options}</select>
                                    {field_error("signature_id")}
                                </div>
                                <div class="field">
                                    <label for="bulk-template">{t!(i18n, bulk.template)}</label>
                                    <select id="bulk-template" name="template_id"
                                        on:change=move |ev| set_template.set(event_target_value(&ev))>
                                        {template_options}
                                    </select>
                                    {field_error("template_id")}
                                    {move || selected().map(|t| view! {
                                        <p class="content-text template-text">{t.content.clone()}</p>
                                        <p class="hint">
                                            {t!(i18n, bulk.variables, n = t.params)}
                                            {t.marketing.then(|| {
                                                let window = window.clone();
                                                t!(i18n, bulk.marketing_only, window = move || window())
                                            })}
                                            {t!(i18n, bulk.download_standard)}
                                            <a href=format!("/bulk/standard/{}.csv", t.id) download>"CSV"</a>" · "
                                            <a href=format!("/bulk/standard/{}.xlsx", t.id) download>"XLSX"</a>
                                        </p>
                                    })}
                                </div>
                                <div class="field">
                                    <label for="bulk-file">{t!(i18n, bulk.file)}</label>
                                    <input id="bulk-file" type="file" name="file" required
                                        accept=".csv,.xlsx,.xls,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/vnd.ms-excel"/>
                                    <p class="hint">{t!(i18n, bulk.file_hint)}</p>
                                    {field_error("file")}
                                </div>
                                {move || progress.get().map(|p| view! {
                                    <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=p>
                                        <div class="progress-bar" style=format!("width: {p}%")></div>
                                        <span>{t!(i18n, bulk.uploading, p)}</span>
                                    </div>
                                })}
                                <button type="submit" class="primary" disabled=move || progress.get().is_some()>{t!(i18n, bulk.upload)}</button>
                            </form>
                        }.into_any()
                    })
                })}}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn ReportStep(id: i64) -> impl IntoView {
    let i18n = use_i18n();
    let (tick, set_tick) = signal(0u32);
    let polling = StoredValue::new(false);
    let report = Resource::new(move || (id, tick.get()), |(id, _)| get_upload_report(id));
    // Asked for here, not by the confirmation step inside the report: a resource created in a
    // part that waits would be created again whenever the server renders that part again.
    let carriers = Resource::new(|| (), |_| crate::dispatch::api::list_carriers());
    view! {
        <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
            <ErrorBoundary fallback=error_view>
                {move || Suspend::new(async move {
                    let report = report.await;
                    let carriers = carriers.await.unwrap_or_default();
                    report.map(|report| match report.state.clone() {
                        UploadState::Processing => {
                            poll_again(polling, set_tick, 500);
                            let p = report.percent_processed();
                            view! {
                                // Reloads while checking, for browsers without JavaScript. As markup
                                // (not an element the client builds): with scripting on, a browser
                                // reads a noscript's markup as text, so the refresh stays inert;
                                // built as an element it would reload the page under a user typing.
                                <noscript inner_html=r#"<meta http-equiv="refresh" content="1">"#></noscript>
                                <p>{t!(i18n, bulk.checking, file = report.file_name.clone())}</p>
                                <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=p>
                                    <div class="progress-bar" style=format!("width: {p}%")></div>
                                    <span>{t!(i18n, bulk.processing, p)}</span>
                                </div>
                            }.into_any()
                        }
                        UploadState::Failed(reason) => view! {
                            <p class="alert alert-error" role="alert">{t!(i18n, bulk.file_failed, file = report.file_name.clone(), reason)}</p>
                            <A href="/bulk" attr:class="button">{t!(i18n, bulk.upload_another)}</A>
                        }.into_any(),
                        UploadState::Ready => view! { <Report report carriers/> }.into_any(),
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

#[component]
fn Report(report: UploadReport, carriers: Vec<CarrierView>) -> impl IntoView {
    let i18n = use_i18n();
    let rejected_total = report.rejected_total();
    let reasons = report
        .rejected
        .iter()
        .map(|(reason, n)| {
            let reason = *reason;
            view! { <tr><td>{move || reason.text(i18n.get_locale())}</td><td class="num">{number(*n)}</td></tr> }
        })
        .collect_view();
    let has_problems = rejected_total + report.duplicates + report.opted_out > 0;
    let download = format!("/bulk/uploads/{}/rejected.csv", report.id);
    view! {
        <section class="card report" aria-label=move || td_string!(i18n.get_locale(), bulk.report)>
            <h2>{t!(i18n, bulk.report)}</h2>
            <p class="muted">{format!("{} · {} · {} · {}", report.file_name, report.application, report.signature, report.template)}</p>
            <dl class="figures">
                <div><dt>{t!(i18n, bulk.rows)}</dt><dd data-figure="total">{number(report.total_rows)}</dd></div>
                <div><dt>{t!(i18n, bulk.accepted)}</dt><dd data-figure="accepted">{number(report.accepted)}</dd></div>
                <div><dt>{t!(i18n, bulk.duplicates_removed)}</dt><dd data-figure="duplicates">{number(report.duplicates)}</dd></div>
                <div><dt>{t!(i18n, bulk.opted_out_removed)}</dt><dd data-figure="opted-out">{number(report.opted_out)}</dd></div>
                <div><dt>{t!(i18n, bulk.rejected)}</dt><dd data-figure="rejected">{number(rejected_total)}</dd></div>
            </dl>
            {(rejected_total > 0).then(|| view! {
                <table class="data compact">
                    <thead><tr><th>{t!(i18n, bulk.reason)}</th><th>{t!(i18n, bulk.rows)}</th></tr></thead>
                    <tbody>{reasons}</tbody>
                </table>
            })}
            <p>
                {has_problems.then(|| view! { <a href=download download>{t!(i18n, bulk.download_rejected)}</a>" · " })}
                <A href="/bulk">{t!(i18n, bulk.upload_different)}</A>
            </p>
        </section>
        {match report.task_id {
            Some(task) => view! {
                <p class="alert alert-ok">{t!(i18n, bulk.task_created)}<A href=format!("/records/{task}")>{t!(i18n, bulk.open_it)}</A></p>
            }.into_any(),
            None if report.accepted == 0 => view! {
                <p class="alert alert-error">{t!(i18n, bulk.nothing_to_send)}</p>
            }.into_any(),
            None => view! { <Confirm report carriers/> }.into_any(),
        }}
    }
}

#[component]
fn Confirm(report: UploadReport, carriers: Vec<CarrierView>) -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateTask>::new();
    let error = action_error(create);
    let (mode, set_mode) = signal("now".to_owned());
    let after = report.available_units - report.units;
    // The server renders China time; once hydrated, the browser's own zone is preselected.
    let (zone, set_zone) = signal(None::<String>);
    Effect::new(move |_| set_zone.set(browser_time_zone()));
    // The moment typed, as the server reads it, in China time: checked as it is typed.
    let (send_at, set_send_at) = signal(String::new());
    let (chosen_zone, set_chosen_zone) = signal(None::<String>);
    let check = ServerAction::<CheckSendTime>::new();
    let upload_id = report.id;
    let recheck = move || {
        let send_at = send_at.get_untracked();
        let time_zone = chosen_zone
            .get_untracked()
            .or_else(|| zone.get_untracked())
            .unwrap_or_else(|| CHINA_ZONE.to_owned());
        if !send_at.is_empty() {
            check.dispatch(CheckSendTime {
                upload_id,
                send_at,
                time_zone,
            });
        }
    };
    let in_china_time = move || {
        let locale = i18n.get_locale();
        match check.value().get() {
            Some(Ok(at)) => Some(view! {
                <p class="hint" data-china-time>{td_string!(locale, bulk.in_china_time, at = date_time(locale, at))}</p>
            }.into_any()),
            Some(Err(err)) => Some(view! {
                <p class="field-error" role="alert">{err.field_message("send_at").or_else(|| err.field_message("time_zone")).unwrap_or_else(|| err.message(locale))}</p>
            }.into_any()),
            None => None,
        }
    };
    let zones = move || {
        let zone = zone.get();
        COMMON_TIME_ZONES
            .iter()
            .map(|z| z.to_string())
            .chain(
                zone.clone()
                    .filter(|z| !COMMON_TIME_ZONES.contains(&z.as_str())),
            )
            .map(|z| {
                let selected = zone.as_deref().unwrap_or(CHINA_ZONE) == z;
                // China time is the zone Herald shows every time in: say so beside it.
                let text = if z == CHINA_ZONE {
                    format!("{z} · {}", zone_label(i18n.get_locale()))
                } else {
                    z.clone()
                };
                view! { <option value=z.clone() selected=selected>{text}</option> }
            })
            .collect_view()
    };
    view! {
        <section class="card" aria-label=move || td_string!(i18n.get_locale(), bulk.confirm)>
            <h2>{t!(i18n, bulk.confirm)}</h2>
            <ActionForm action=create attr:class="form">
                <FormAlert error/>
                <input type="hidden" name="upload_id" value=report.id/>
                <Field label=move || td_string!(i18n.get_locale(), bulk.task_name) name="name" error value=report.file_name.rsplit_once('.').map_or(report.file_name.clone(), |(stem, _)| stem.to_owned())/>
                <dl class="figures">
                    <div><dt>{t!(i18n, bulk.recipients)}</dt><dd data-figure="recipients">{number(report.accepted)}</dd></div>
                    <div><dt>{t!(i18n, bulk.fee)}</dt><dd data-figure="units">{number(report.units)}</dd></div>
                    <div><dt>{t!(i18n, bulk.balance_now)}</dt><dd data-figure="balance">{number(report.available_units)}</dd></div>
                    <div><dt>{t!(i18n, bulk.balance_after)}</dt><dd data-figure="balance-after" class:negative=after < 0>{number(after)}</dd></div>
                </dl>
                <p class="hint">{t!(i18n, bulk.fee_hint)}</p>
                {(after < 0).then(|| view! {
                    <p class="alert alert-error">{t!(i18n, bulk.balance_short)}</p>
                })}
                <fieldset class="field">
                    <legend class="label">{t!(i18n, bulk.when)}</legend>
                    <label class="choice"><input type="radio" name="send_mode" value="now" checked on:change=move |_| set_mode.set("now".into())/>{t!(i18n, bulk.send_now)}</label>
                    <label class="choice"><input type="radio" name="send_mode" value="schedule" on:change=move |_| set_mode.set("schedule".into())/>{t!(i18n, bulk.send_scheduled)}</label>
                    <FieldMessage error name="send_mode"/>
                </fieldset>
                <div class="field schedule" class:dimmed=move || mode.get() == "now">
                    <label for="field-send_at">{t!(i18n, bulk.send_at)}</label>
                    <div class="inline-label">
                        <input id="field-send_at" type="datetime-local" name="send_at" step="1"
                            on:change=move |ev| { set_send_at.set(event_target_value(&ev)); recheck(); }/>
                        <select name="time_zone" aria-label=move || td_string!(i18n.get_locale(), bulk.time_zone)
                            on:change=move |ev| { set_chosen_zone.set(Some(event_target_value(&ev))); recheck(); }>{zones}</select>
                    </div>
                    {in_china_time}
                    {report.marketing.then(|| view! { <p class="hint">{t!(i18n, bulk.marketing_hours_hint)}</p> })}
                    <FieldMessage error name="send_at"/>
                    <FieldMessage error name="time_zone"/>
                </div>
                <CarrierChoice carriers error/>
                <div class="field">
                    <label class="choice">
                        <input type="checkbox" name="consent" value="yes" required/>
                        {t!(i18n, bulk.consent, recipients = number(report.accepted), units = number(report.units))}
                    </label>
                    <FieldMessage error name="consent"/>
                </div>
                <button type="submit" class="primary">{t!(i18n, bulk.start)}</button>
            </ActionForm>
        </section>
    }
}

/// China time's zone name, the zone every time in the console is shown in.
const CHINA_ZONE: &str = "Asia/Shanghai";

fn browser_time_zone() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        super::upload_client::time_zone()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}

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
fn task_details(detail: super::model::TaskDetail) -> impl IntoView {
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

/// Settings: the daily hours marketing SMS may go out (China time).
#[component]
pub fn MarketingWindowSection() -> impl IntoView {
    let update = ServerAction::<UpdateMarketingWindow>::new();
    let window = Resource::new(move || update.version().get(), |_| get_marketing_window());
    let error = action_error(update);
    let i18n = use_i18n();
    view! {
        <h2>{t!(i18n, bulk.marketing_hours)}</h2>
        <p class="muted">{t!(i18n, bulk.marketing_hours_intro)}</p>
        <Transition fallback=|| ()>
            <ErrorBoundary fallback=error_view>
                {move || Suspend::new(async move {
                    window.await.map(|(start, end)| view! {
                        <ActionForm action=update attr:class="form narrow">
                            <FormAlert error succeeded=action_succeeded(update)
                                success_text=move || td_string!(i18n.get_locale(), bulk.saved)/>
                            <Field label=move || td_string!(i18n.get_locale(), bulk.window_from) name="start" kind="time" value=start error
                                hint=move || zone_label(i18n.get_locale())/>
                            <Field label=move || td_string!(i18n.get_locale(), bulk.window_until) name="end" kind="time" value=end error
                                hint=move || zone_label(i18n.get_locale())/>
                            <button type="submit">{t!(i18n, bulk.save_hours)}</button>
                        </ActionForm>
                    })
                })}
            </ErrorBoundary>
        </Transition>
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

/// The carrier a task goes through; the default carrier is preselected.
#[component]
fn CarrierChoice(
    carriers: Vec<CarrierView>,
    error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let options = carriers
        .into_iter()
        .map(|c| {
            let kind = c.kind.clone();
            let text = move || {
                let kind = crate::dispatch::pages::carrier_kind_name(i18n.get_locale(), &kind);
                format!("{} ({kind})", c.name)
            };
            view! { <option value=c.id selected=c.is_default>{text}</option> }
        })
        .collect_view();
    view! {
        <div class="field">
            <label for="field-carrier_id">{t!(i18n, bulk.carrier)}</label>
            <select id="field-carrier_id" name="carrier_id">{options}</select>
            <FieldMessage error name="carrier_id"/>
        </div>
    }
}

/// Asks for one more reading after `millis`, in the browser. At most one is ever pending: a view
/// that renders twice must not leave a second refresh behind, which would re-render (and reset)
/// a form the user is filling in after the polling stopped.
fn poll_again(pending: StoredValue<bool>, set_tick: WriteSignal<u32>, millis: u64) {
    #[cfg(feature = "hydrate")]
    if !pending.get_value() {
        pending.set_value(true);
        set_timeout(
            move || {
                pending.set_value(false);
                set_tick.update(|t| *t += 1);
            },
            std::time::Duration::from_millis(millis),
        );
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (pending, set_tick, millis);
}
