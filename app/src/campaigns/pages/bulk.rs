//! Bulk SMS: choose what to send, upload the recipients, read the report, confirm.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::accounts::frame::{Area, Guard};
use crate::campaigns::api::{
    get_bulk_options, get_marketing_window, get_upload_report, CheckSendTime, CreateTask,
    UpdateMarketingWindow,
};
use crate::campaigns::model::{window_text, UploadReport, UploadState, COMMON_TIME_ZONES};
use crate::carriers::model::CarrierView;
use crate::forms::{
    action_error, action_succeeded, error_view, poll_again, Field, FieldMessage, FormAlert,
};
use crate::i18n::{t, td_string, use_i18n};
use crate::locale::{date_time, number, zone_label};

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
        crate::campaigns::upload_client::send(
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
    let carriers = Resource::new(|| (), |_| crate::carriers::api::list_carriers());
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
        crate::campaigns::upload_client::time_zone()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
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
                let kind = crate::carriers::pages::carrier_kind_name(i18n.get_locale(), &kind);
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
