use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

use super::api::{get_dashboard, get_statistics, get_statistics_choices, get_task_analytics};
use super::model::{FirstStep, GettingStarted, Granularity, TaskAnalytics, LATENCY_LABELS};
use crate::accounts::frame::{Area, Guard};
use crate::charts::{BarChart, LineChart, Series};
use crate::forms::error_view;
use crate::i18n::{t, td_string, use_i18n, Locale};
use crate::locale::number;
use crate::receipts::model::{meaning, operator_name};
use crate::templates::model::SmsType;
use crate::templates::pages::sms_type_name;

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{r:.1}%"))
}

/// A statistics period (China time, "YYYY-MM-DD" or "YYYY-MM-DD HH:00") as the language writes it.
fn period_label(locale: Locale, granularity: Granularity, period: &str) -> String {
    use chrono::TimeZone;
    match granularity {
        Granularity::Day => chrono::NaiveDate::parse_from_str(period, "%Y-%m-%d")
            .map(|day| crate::locale::date(locale, day))
            .unwrap_or_else(|_| period.to_owned()),
        Granularity::Hour => chrono::NaiveDateTime::parse_from_str(period, "%Y-%m-%d %H:%M")
            .ok()
            .and_then(|at| {
                chrono::FixedOffset::east_opt(8 * 3600)?
                    .from_local_datetime(&at)
                    .single()
            })
            .map(|at| crate::locale::date_time_minutes(locale, at.to_utc()))
            .unwrap_or_else(|| period.to_owned()),
    }
}

/// Details & Receipt Analytics of one task, read again whenever `refresh` changes (while the
/// task is sending).
#[component]
pub fn TaskAnalyticsSection(id: Signal<i64>, refresh: Signal<u32>) -> impl IntoView {
    let analytics = Resource::new(
        move || (id.get(), refresh.get()),
        |(id, _)| get_task_analytics(id),
    );
    let i18n = use_i18n();
    view! {
        <section class="analytics">
            <h2>{t!(i18n, analytics.heading)}</h2>
            <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                <ErrorBoundary fallback=error_view>
                    {move || Suspend::new(async move { analytics.await.map(analytics_view) })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

/// A timeline this short reads better as bars (a line through one or two points is nothing).
const FEW_STEPS: usize = 12;

/// The timeline's unit, "per 5 seconds, China time", in `locale`.
fn step_words(locale: Locale, seconds: i64) -> String {
    match seconds {
        1 => td_string!(locale, analytics.per_second).to_owned(),
        s if s < 60 => td_string!(locale, analytics.per_seconds, n = s).to_string(),
        60 => td_string!(locale, analytics.per_minute).to_owned(),
        s if s < 3600 => td_string!(locale, analytics.per_minutes, n = s / 60).to_string(),
        3600 => td_string!(locale, analytics.per_hour).to_owned(),
        s if s < 86400 => td_string!(locale, analytics.per_hours, n = s / 3600).to_string(),
        _ => td_string!(locale, analytics.per_day).to_owned(),
    }
}

fn analytics_view(a: TaskAnalytics) -> impl IntoView {
    let i18n = use_i18n();
    let h = a.headline.clone();
    let figure = |label: AnyView, key: &'static str, value: String| {
        view! { <div><dt>{label}</dt><dd data-analytics=key>{value}</dd></div> }
    };
    let a = StoredValue::new(a);
    // The charts' titles and series names are plain text: drawn again when the language changes.
    let charts = move || {
        let locale = i18n.get_locale();
        a.with_value(|a| {
            let labels: Vec<String> = a.timeline.iter().map(|p| p.label.clone()).collect();
            let series = |name: &str,
                          class: &'static str,
                          pick: fn(&super::model::TimelinePoint) -> i64| Series {
                name: name.to_owned(),
                class,
                values: a.timeline.iter().map(pick).collect(),
            };
            let timeline = vec![
                series(td_string!(locale, analytics.taken), "s1", |p| p.submitted),
                series(td_string!(locale, analytics.delivered), "s2", |p| p.delivered),
                series(td_string!(locale, analytics.failed_receipt), "s3", |p| p.failed),
                series(td_string!(locale, analytics.refused), "s4", |p| p.refused),
            ];
            let step = step_words(locale, a.step_seconds);
            let latency = vec![Series {
                name: td_string!(locale, analytics.receipts_series).into(),
                class: "s2",
                values: a.latency.clone(),
            }];
            view! {
                <div class="charts">
                    {if labels.len() <= FEW_STEPS {
                        view! { <BarChart title=td_string!(locale, analytics.timeline) chart="Sends and receipts over time" y_label=step labels series=timeline/> }.into_any()
                    } else {
                        view! { <LineChart title=td_string!(locale, analytics.timeline) chart="Sends and receipts over time" y_label=step labels series=timeline/> }.into_any()
                    }}
                    <BarChart title=td_string!(locale, analytics.latency) chart="Delivery latency (carrier took it → receipt)" y_label=td_string!(locale, analytics.receipts_axis)
                        labels=LATENCY_LABELS.iter().map(|l| l.to_string()).collect() series=latency/>
                </div>
            }
        })
    };
    let groups = a.with_value(|a| {
        a.groups
            .iter()
            .map(|&(g, n)| {
                view! {
                    <tr><td>{move || g.name(i18n.get_locale())}</td>
                    <td class="num">{number(n)}</td></tr>
                }
            })
            .collect_view()
    });
    let failures = a.with_value(|a| {
        if a.failures.is_empty() {
            view! { <p class="empty">{t!(i18n, analytics.no_failures)}</p> }.into_any()
        } else {
            let rows = a
                .failures
                .iter()
                .map(|f| {
                    let (group, messages, code) = (f.group, f.messages, f.code.clone());
                    view! {
                        <tr data-code=f.code.clone()>
                            <td><code>{f.code.clone()}</code></td>
                            <td>{move || meaning(i18n.get_locale(), &code)}</td>
                            <td>{move || group.name(i18n.get_locale())}</td>
                            <td class="num">{number(messages)}</td>
                            <td><a href=format!("?code={}#records", crate::forms::encode_query_value(&f.code))>{t!(i18n, analytics.records)}</a></td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <table class="data">
                    <thead><tr>
                        <th>{t!(i18n, analytics.code)}</th><th>{t!(i18n, analytics.meaning)}</th>
                        <th>{t!(i18n, analytics.group)}</th><th>{t!(i18n, analytics.messages)}</th><th></th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }
            .into_any()
        }
    });
    let operators = a.with_value(|a| {
        a.operators
            .iter()
            .map(|o| {
                let rate = super::model::success_rate(o.delivered, o.failed);
                let operator = o.operator.clone();
                let figures = [o.recipients, o.submitted, o.delivered, o.failed];
                view! {
                    <tr data-operator=o.operator.clone()>
                        <td>{move || operator_name(i18n.get_locale(), &operator)}</td>
                        {figures.map(|n| view! { <td class="num">{number(n)}</td> })}
                        <td class="num">{percent(rate)}</td>
                    </tr>
                }
            })
            .collect_view()
    });
    view! {
        <dl class="figures">
            {figure(t!(i18n, analytics.recipients).into_any(), "recipients", number(h.recipients))}
            {figure(t!(i18n, analytics.submitted).into_any(), "submitted", number(h.submitted))}
            {figure(t!(i18n, analytics.delivered).into_any(), "delivered", number(h.delivered))}
            {figure(t!(i18n, analytics.failed).into_any(), "failed", number(h.failed))}
            {figure(t!(i18n, analytics.awaiting).into_any(), "awaiting", number(h.awaiting))}
            {figure(t!(i18n, analytics.success_rate).into_any(), "success-rate", percent(h.success_rate()))}
            {figure(t!(i18n, analytics.units_used).into_any(), "units", number(h.units_used))}
        </dl>
        {charts}
        <h3>{t!(i18n, analytics.failure_reasons)}</h3>
        <table class="data compact groups"><tbody>{groups}</tbody></table>
        {failures}
        <h3>{t!(i18n, analytics.by_operator)}</h3>
        <table class="data">
            <thead><tr>
                <th>{t!(i18n, analytics.operator)}</th><th>{t!(i18n, analytics.recipients)}</th><th>{t!(i18n, analytics.submitted)}</th>
                <th>{t!(i18n, analytics.delivered)}</th><th>{t!(i18n, analytics.failed)}</th><th>{t!(i18n, analytics.success_rate)}</th>
            </tr></thead>
            <tbody>{operators}</tbody>
        </table>
    }
}

/// Business statistics: requests, successful submissions, units and receipts over time.
#[component]
pub fn StatisticsPage() -> impl IntoView {
    let i18n = use_i18n();
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
        <Title text=move || td_string!(i18n.get_locale(), stats.title)/>
        <Guard area=Area::Statistics>
            <section class="page">
                <div class="page-head">
                    <h1>{t!(i18n, stats.title)}</h1>
                    <a class="button" href=csv_href download>{t!(i18n, stats.export_csv)}</a>
                </div>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let c = choices.await.unwrap_or_else(|_| super::model::StatsChoices {
                            applications: vec![], signatures: vec![], templates: vec![],
                        });
                        let select = move |name: &'static str, any: fn(Locale) -> &'static str, list: Vec<super::model::Choice>| {
                            let current = param(name)();
                            let options = list.into_iter().map(|o| {
                                let value = o.id.to_string();
                                view! { <option value=value.clone() selected=current == value>{o.label}</option> }
                            }).collect_view();
                            view! { <select name=name><option value="">{move || any(i18n.get_locale())}</option>{options}</select> }
                        };
                        let sms_type = param("sms_type")();
                        let granularity = param("granularity")();
                        view! {
                            <Form method="GET" action="" attr:class="filters">
                                <label>{t!(i18n, stats.application_filter)}
                                    {select("application", |l| td_string!(l, stats.all_applications), c.applications)}</label>
                                <label>{t!(i18n, stats.signature_filter)}
                                    {select("signature", |l| td_string!(l, stats.all_signatures), c.signatures)}</label>
                                <label>{t!(i18n, stats.template_filter)}
                                    {select("template", |l| td_string!(l, stats.all_templates), c.templates)}</label>
                                <label>{t!(i18n, stats.sms_type_filter)}
                                    <select name="sms_type">
                                        <option value="">{t!(i18n, stats.all_types)}</option>
                                        {SmsType::ALL.into_iter().map(|t| {
                                            let value = t.code().to_string();
                                            view! { <option value=value.clone() selected=sms_type == value>{move || sms_type_name(i18n.get_locale(), t)}</option> }
                                        }).collect_view()}
                                    </select>
                                </label>
                                <label>{t!(i18n, stats.from)} <input type="date" name="from" value=param("from")()/></label>
                                <label>{t!(i18n, stats.until)} <input type="date" name="until" value=param("until")()/></label>
                                <label>{t!(i18n, stats.by)}
                                    <select name="granularity">
                                        <option value="day" selected=granularity != "hour">{t!(i18n, stats.day)}</option>
                                        <option value="hour" selected=granularity == "hour">{t!(i18n, stats.hour)}</option>
                                    </select>
                                </label>
                                <button type="submit">{t!(i18n, stats.show)}</button>
                            </Form>
                        }
                    })}
                </Transition>
                <p class="muted">{t!(i18n, stats.range_note)}</p>
                <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            report.await.map(|r| {
                                if r.rows.is_empty() {
                                    return view! { <p class="empty">{t!(i18n, stats.empty)}</p> }.into_any();
                                }
                                let granularity = r.granularity;
                                let r = StoredValue::new(r);
                                // Chart text is plain text: drawn again when the language changes.
                                let chart = move || {
                                    let locale = i18n.get_locale();
                                    r.with_value(|r| {
                                        let labels: Vec<String> = r.rows.iter().map(|row| period_label(locale, granularity, &row.period)).collect();
                                        let series = vec![
                                            Series { name: td_string!(locale, stats.requests).into(), class: "s1", values: r.rows.iter().map(|x| x.requests).collect() },
                                            Series { name: td_string!(locale, stats.successful_submissions).into(), class: "s5", values: r.rows.iter().map(|x| x.submitted).collect() },
                                            Series { name: td_string!(locale, stats.receipts_delivered).into(), class: "s2", values: r.rows.iter().map(|x| x.receipts_ok).collect() },
                                            Series { name: td_string!(locale, stats.receipts_failed).into(), class: "s3", values: r.rows.iter().map(|x| x.receipts_fail).collect() },
                                        ];
                                        view! {
                                            <BarChart title=td_string!(locale, stats.messages_chart) chart="Messages" y_label=td_string!(locale, stats.messages_axis) labels series/>
                                        }
                                    })
                                };
                                let row = move |x: &super::model::StatsRow, total: bool| {
                                    let period = x.period.clone();
                                    let figures = [x.requests, x.submitted, x.units, x.receipts_ok, x.receipts_fail];
                                    view! {
                                        <tr>
                                            <td>{move || if total {
                                                td_string!(i18n.get_locale(), stats.total).to_owned()
                                            } else {
                                                period_label(i18n.get_locale(), granularity, &period)
                                            }}</td>
                                            {figures.map(|n| view! { <td class="num">{number(n)}</td> })}
                                        </tr>
                                    }
                                };
                                let (rows, totals) = r.with_value(|r| {
                                    (r.rows.iter().map(|x| row(x, false)).collect_view(), row(&r.totals, true))
                                });
                                view! {
                                    {chart}
                                    <table class="data" data-statistics="">
                                        <thead><tr>
                                            <th>{move || if granularity == Granularity::Hour {
                                                td_string!(i18n.get_locale(), stats.period_hour)
                                            } else {
                                                td_string!(i18n.get_locale(), stats.period_day)
                                            }}</th>
                                            <th>{t!(i18n, stats.requests)}</th><th>{t!(i18n, stats.successful_submissions)}</th>
                                            <th>{t!(i18n, stats.billed_units)}</th>
                                            <th>{t!(i18n, stats.receipts_delivered)}</th><th>{t!(i18n, stats.receipts_failed)}</th>
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

/// A getting-started step as the checklist words it, in `locale`.
fn first_step_text(locale: Locale, step: FirstStep) -> &'static str {
    match step {
        FirstStep::Roles => td_string!(locale, dashboard.step_roles),
        FirstStep::Application => td_string!(locale, dashboard.step_application),
        FirstStep::Signature => td_string!(locale, dashboard.step_signature),
        FirstStep::Template => td_string!(locale, dashboard.step_template),
        FirstStep::SmsPackage => td_string!(locale, dashboard.step_sms_package),
    }
}

/// The admin's checklist of what the first message needs, each step ticked once it is done.
fn getting_started_view(start: GettingStarted) -> impl IntoView {
    let i18n = use_i18n();
    let steps = FirstStep::ALL
        .into_iter()
        .map(|step| {
            let done = start.done(step);
            let tick = done.then(|| {
                view! {
                    <span class="tick" role="img" aria-label=move || td_string!(i18n.get_locale(), dashboard.step_done)>"✓"</span>
                }
            });
            view! {
                <li class:done=done data-done=done.to_string()>
                    {tick}
                    <A href=start.href(step)>{move || first_step_text(i18n.get_locale(), step)}</A>
                </li>
            }
        })
        .collect_view();
    view! {
        <article class="card getting-started" data-getting-started="">
            <h2>{t!(i18n, dashboard.getting_started)}</h2>
            <p class="muted">{t!(i18n, dashboard.getting_started_intro)}</p>
            <ol class="checklist">{steps}</ol>
        </article>
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
                        let getting_started = f
                            .getting_started
                            .filter(|start| !start.finished())
                            .map(getting_started_view);
                        let success_today = percent(f.success_rate());
                        let has_recent = !f.recent_tasks.is_empty();
                        let recent = f.recent_tasks.into_iter().map(|t| {
                            let (status, sent, recipients) = (t.status, t.sent, t.recipients);
                            view! {
                                <li><A href=format!("/records/{}", t.id)>{t.name.clone()}</A>
                                    {move || format!(" · {} · {}/{}", status.name(i18n.get_locale()), number(sent), number(recipients))}</li>
                            }
                        }).collect_view();
                        view! {
                            {getting_started}
                            <dl class="figures" data-dashboard="">
                                <div><dt>{t!(i18n, dashboard.sent_today)}</dt><dd data-figure="sent-today">{number(f.sent_today)}</dd></div>
                                <div><dt>{t!(i18n, dashboard.success_today)}</dt><dd data-figure="success-today">{success_today}</dd></div>
                                <div><dt>{t!(i18n, dashboard.balance)}</dt><dd data-figure="balance">{number(f.balance)}</dd></div>
                                {f.pending_reviews.map(|n| view! {
                                    <div><dt>{t!(i18n, dashboard.pending_reviews)}</dt><dd data-figure="pending-reviews"><A href="/review">{number(n)}</A></dd></div>
                                })}
                                {(f.verify_abuse.by_ip + f.verify_abuse.by_prefix > 0).then(|| view! {
                                    <div><dt>{t!(i18n, dashboard.pumping)}</dt><dd data-figure="verify-abuse">
                                        {t!(i18n, dashboard.pumping_value, by_ip = number(f.verify_abuse.by_ip), by_prefix = number(f.verify_abuse.by_prefix))}
                                    </dd></div>
                                })}
                                {(f.unmatched_receipts > 0).then(|| view! {
                                    <div><dt>{t!(i18n, dashboard.unmatched)}</dt><dd data-figure="unmatched">{number(f.unmatched_receipts)}</dd></div>
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
