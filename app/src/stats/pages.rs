use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

use super::api::{get_dashboard, get_statistics, get_statistics_choices, get_task_analytics};
use super::model::{TaskAnalytics, LATENCY_LABELS};
use crate::campaigns::model::TaskStatus;
use crate::charts::{BarChart, LineChart, Series};
use crate::forms::error_view;
use crate::i18n::{t, td_string, use_i18n, Locale};
use crate::shell::{Area, Guard};
use crate::templates::model::SmsType;

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{r:.1}%"))
}

/// Details & Receipt Analytics of one task.
#[component]
pub fn TaskAnalyticsSection(id: i64) -> impl IntoView {
    let analytics = Resource::new(move || id, get_task_analytics);
    view! {
        <section class="analytics">
            <h2>"Details & Receipt Analytics"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                <ErrorBoundary fallback=error_view>
                    {move || Suspend::new(async move { analytics.await.map(analytics_view) })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

fn analytics_view(a: TaskAnalytics) -> impl IntoView {
    let h = a.headline.clone();
    let figure = |label: &'static str, key: &'static str, value: String| {
        view! { <div><dt>{label}</dt><dd data-analytics=key>{value}</dd></div> }
    };
    let labels: Vec<String> = a.timeline.iter().map(|p| p.label.clone()).collect();
    let series =
        |name: &str, class: &'static str, pick: fn(&super::model::TimelinePoint) -> i64| Series {
            name: name.to_owned(),
            class,
            values: a.timeline.iter().map(pick).collect(),
        };
    let timeline = vec![
        series("Taken by the carrier", "s1", |p| p.submitted),
        series("Delivered", "s2", |p| p.delivered),
        series("Failed (receipt)", "s3", |p| p.failed),
        series("Refused / not sent", "s4", |p| p.refused),
    ];
    let step = if a.step_minutes == 1 {
        "per minute, China time".to_owned()
    } else {
        format!("per {} minutes, China time", a.step_minutes)
    };
    let latency = vec![Series {
        name: "Receipts".into(),
        class: "s2",
        values: a.latency.clone(),
    }];
    let groups = a
        .groups
        .iter()
        .map(|(g, n)| view! { <tr><td>{g.label()}</td><td class="num">{*n}</td></tr> })
        .collect_view();
    let failures = if a.failures.is_empty() {
        view! { <p class="empty">"No failures."</p> }.into_any()
    } else {
        let rows = a
            .failures
            .iter()
            .map(|f| {
                view! {
                    <tr data-code=f.code.clone()>
                        <td><code>{f.code.clone()}</code></td>
                        <td>{f.meaning.clone()}</td>
                        <td>{f.group.label()}</td>
                        <td class="num">{f.messages}</td>
                        <td><a href=format!("?code={}#records", crate::forms::encode_query_value(&f.code))>"Records"</a></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="data">
                <thead><tr><th>"Code"</th><th>"Meaning"</th><th>"Group"</th><th>"Messages"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let operators = a
        .operators
        .iter()
        .map(|o| {
            let rate = super::model::success_rate(o.delivered, o.failed);
            view! {
                <tr data-operator=o.operator.clone()>
                    <td>{o.operator.clone()}</td>
                    <td class="num">{o.recipients}</td>
                    <td class="num">{o.submitted}</td>
                    <td class="num">{o.delivered}</td>
                    <td class="num">{o.failed}</td>
                    <td class="num">{percent(rate)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <dl class="figures">
            {figure("Recipients", "recipients", h.recipients.to_string())}
            {figure("Submitted", "submitted", h.submitted.to_string())}
            {figure("Delivered", "delivered", h.delivered.to_string())}
            {figure("Failed", "failed", h.failed.to_string())}
            {figure("Awaiting receipt", "awaiting", h.awaiting.to_string())}
            {figure("Success rate", "success-rate", percent(h.success_rate()))}
            {figure("Units used", "units", h.units_used.to_string())}
        </dl>
        <div class="charts">
            <LineChart title="Sends and receipts over time" y_label=step labels series=timeline/>
            <BarChart title="Delivery latency (carrier took it → receipt)" y_label="receipts"
                labels=LATENCY_LABELS.iter().map(|l| l.to_string()).collect() series=latency/>
        </div>
        <h3>"Failure reasons"</h3>
        <table class="data compact groups"><tbody>{groups}</tbody></table>
        {failures}
        <h3>"By mobile operator"</h3>
        <table class="data">
            <thead><tr><th>"Operator"</th><th>"Recipients"</th><th>"Submitted"</th><th>"Delivered"</th><th>"Failed"</th><th>"Success rate"</th></tr></thead>
            <tbody>{operators}</tbody>
        </table>
    }
}

/// Business statistics: requests, successful submissions, units and receipts over time.
#[component]
pub fn StatisticsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &'static str| move || query.with(|q| q.get(name).unwrap_or_default());
    let names = [
        "application",
        "signature",
        "template",
        "sms_type",
        "from",
        "until",
        "granularity",
    ];
    let report = Resource::new(
        move || names.map(|n| param(n)()),
        |[application, signature, template, sms_type, from, until, granularity]| {
            get_statistics(
                application,
                signature,
                template,
                sms_type,
                from,
                until,
                granularity,
            )
        },
    );
    let choices = Resource::new(|| (), |_| get_statistics_choices());
    let csv_href = move || {
        let q: Vec<String> = names
            .iter()
            .map(|n| format!("{n}={}", crate::forms::encode_query_value(&param(n)())))
            .collect();
        format!("/statistics.csv?{}", q.join("&"))
    };
    view! {
        <Title text="Statistics"/>
        <Guard area=Area::Statistics>
            <section class="page">
                <div class="page-head">
                    <h1>"Statistics"</h1>
                    <a class="button" href=csv_href download>"Export CSV"</a>
                </div>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let c = choices.await.unwrap_or_else(|_| super::model::StatsChoices {
                            applications: vec![], signatures: vec![], templates: vec![],
                        });
                        let select = move |name: &'static str, any: &'static str, list: Vec<super::model::Choice>| {
                            let current = param(name)();
                            let options = list.into_iter().map(|o| {
                                let value = o.id.to_string();
                                view! { <option value=value.clone() selected=current == value>{o.label}</option> }
                            }).collect_view();
                            view! { <select name=name><option value="">{any}</option>{options}</select> }
                        };
                        let sms_type = param("sms_type")();
                        let granularity = param("granularity")();
                        view! {
                            <Form method="GET" action="" attr:class="filters">
                                <label>"Application " {select("application", "All applications", c.applications)}</label>
                                <label>"Signature " {select("signature", "All signatures", c.signatures)}</label>
                                <label>"Template " {select("template", "All templates", c.templates)}</label>
                                <label>"SMS type "
                                    <select name="sms_type">
                                        <option value="">"All types"</option>
                                        {SmsType::ALL.into_iter().map(|t| {
                                            let value = t.code().to_string();
                                            view! { <option value=value.clone() selected=sms_type == value>{t.label()}</option> }
                                        }).collect_view()}
                                    </select>
                                </label>
                                <label>"From " <input type="date" name="from" value=param("from")()/></label>
                                <label>"to " <input type="date" name="until" value=param("until")()/></label>
                                <label>"By "
                                    <select name="granularity">
                                        <option value="day" selected=granularity != "hour">"Day"</option>
                                        <option value="hour" selected=granularity == "hour">"Hour"</option>
                                    </select>
                                </label>
                                <button type="submit">"Show"</button>
                            </Form>
                        }
                    })}
                </Transition>
                <p class="muted">"Dates are China time; the default range is the last 7 days. Receipts count in the hour their message was sent."</p>
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            report.await.map(|r| {
                                if r.rows.is_empty() {
                                    return view! { <p class="empty">"Nothing was sent in this range."</p> }.into_any();
                                }
                                let labels: Vec<String> = r.rows.iter().map(|row| row.period.clone()).collect();
                                let series = vec![
                                    Series { name: "Requests".into(), class: "s1", values: r.rows.iter().map(|x| x.requests).collect() },
                                    Series { name: "Successful submissions".into(), class: "s5", values: r.rows.iter().map(|x| x.submitted).collect() },
                                    Series { name: "Receipts: delivered".into(), class: "s2", values: r.rows.iter().map(|x| x.receipts_ok).collect() },
                                    Series { name: "Receipts: failed".into(), class: "s3", values: r.rows.iter().map(|x| x.receipts_fail).collect() },
                                ];
                                let row = |x: &super::model::StatsRow| view! {
                                    <tr>
                                        <td>{x.period.clone()}</td>
                                        <td class="num">{x.requests}</td>
                                        <td class="num">{x.submitted}</td>
                                        <td class="num">{x.units}</td>
                                        <td class="num">{x.receipts_ok}</td>
                                        <td class="num">{x.receipts_fail}</td>
                                    </tr>
                                };
                                let rows = r.rows.iter().map(row).collect_view();
                                let totals = row(&r.totals);
                                view! {
                                    <BarChart title="Messages" y_label="messages" labels series/>
                                    <table class="data" data-statistics="">
                                        <thead><tr>
                                            <th>{if r.granularity == super::model::Granularity::Hour { "Hour" } else { "Day" }}</th>
                                            <th>"Requests"</th><th>"Successful submissions"</th><th>"Billed units (FeeCount)"</th>
                                            <th>"Receipts: delivered"</th><th>"Receipts: failed"</th>
                                        </tr></thead>
                                        <tbody>{rows}</tbody>
                                        <tfoot>{totals}</tfoot>
                                    </table>
                                }.into_any()
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
            </section>
        </Guard>
    }
}

/// A task's status in the console's language.
pub fn task_status_name(locale: Locale, status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Scheduled => td_string!(locale, task_status.scheduled),
        TaskStatus::Sending => td_string!(locale, task_status.sending),
        TaskStatus::Paused => td_string!(locale, task_status.paused),
        TaskStatus::Completed => td_string!(locale, task_status.completed),
        TaskStatus::Cancelled => td_string!(locale, task_status.cancelled),
        TaskStatus::Failed => td_string!(locale, task_status.failed),
    }
}

/// Today's figures on the dashboard.
#[component]
pub fn DashboardFiguresSection() -> impl IntoView {
    let figures = Resource::new(|| (), |_| get_dashboard());
    let i18n = use_i18n();
    view! {
        <Transition fallback=|| ()>
            <ErrorBoundary fallback=error_view>
                {move || Suspend::new(async move {
                    figures.await.map(|f| {
                        let success_today = percent(f.success_rate());
                        let has_recent = !f.recent_tasks.is_empty();
                        let recent = f.recent_tasks.into_iter().map(|t| {
                            let (status, sent, recipients) = (t.status, t.sent, t.recipients);
                            view! {
                                <li><A href=format!("/records/{}", t.id)>{t.name.clone()}</A>
                                    {move || format!(" · {} · {sent}/{recipients}", task_status_name(i18n.get_locale(), status))}</li>
                            }
                        }).collect_view();
                        view! {
                            <dl class="figures" data-dashboard="">
                                <div><dt>{t!(i18n, dashboard.sent_today)}</dt><dd data-figure="sent-today">{f.sent_today}</dd></div>
                                <div><dt>{t!(i18n, dashboard.success_today)}</dt><dd data-figure="success-today">{success_today}</dd></div>
                                <div><dt>{t!(i18n, dashboard.balance)}</dt><dd data-figure="balance">{f.balance}</dd></div>
                                {f.pending_reviews.map(|n| view! {
                                    <div><dt>{t!(i18n, dashboard.pending_reviews)}</dt><dd data-figure="pending-reviews"><A href="/review">{n.to_string()}</A></dd></div>
                                })}
                                {(f.verify_abuse.by_ip + f.verify_abuse.by_prefix > 0).then(|| view! {
                                    <div><dt>{t!(i18n, dashboard.pumping)}</dt><dd data-figure="verify-abuse">
                                        {t!(i18n, dashboard.pumping_value, by_ip = f.verify_abuse.by_ip, by_prefix = f.verify_abuse.by_prefix)}
                                    </dd></div>
                                })}
                                {(f.unmatched_receipts > 0).then(|| view! {
                                    <div><dt>{t!(i18n, dashboard.unmatched)}</dt><dd data-figure="unmatched">{f.unmatched_receipts}</dd></div>
                                })}
                            </dl>
                            {has_recent.then(|| view! {
                                <article class="card"><h2>{t!(i18n, dashboard.recent_tasks)}</h2><ul>{recent}</ul></article>
                            })}
                        }
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}
