use leptos::prelude::*;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

use super::api::list_task_messages;
use super::model::{state_name, MessageFilter};
use crate::dispatch::model::MessageState;
use crate::forms::error_view;
use crate::i18n::{t, td_string, use_i18n};
use crate::locale::date_time;

/// Each recipient's message in a task: search by number, filter by state and code, page by
/// page, and export what the filter selects.
#[component]
pub fn RecipientRecords(task_id: Signal<i64>) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let param = move |name: &'static str| move || query.with(|q| q.get(name).unwrap_or_default());
    let page = Resource::new(
        move || {
            (
                param("phone")(),
                param("state")(),
                param("code")(),
                param("after")(),
                task_id.get(),
            )
        },
        move |(phone, state, code, after, task_id)| {
            list_task_messages(task_id, phone, state, code, after.parse().ok())
        },
    );
    let filter =
        move || MessageFilter::parse(&param("phone")(), &param("state")(), &param("code")());
    let state_options = move || {
        let current = param("state")();
        std::iter::once(
            view! { <option value="" selected=current.is_empty()>{t!(i18n, receipts.any_state)}</option> }.into_any(),
        )
        .chain(MessageState::ALL.into_iter().map(|s| {
            let value = s.code().to_string();
            view! { <option value=value.clone() selected=current == value>{move || state_name(i18n.get_locale(), s)}</option> }
                .into_any()
        }))
        .collect_view()
    };
    view! {
        <section class="records" id="records">
            <div class="page-head">
                <h2>{t!(i18n, receipts.recipients)}</h2>
                <a class="button" download
                    href=move || format!("/records/{}/messages.csv?{}", task_id.get(), filter().query())>
                    {t!(i18n, receipts.export_csv)}
                </a>
            </div>
            <Form method="GET" action="" attr:class="filters">
                <label>{t!(i18n, receipts.number)} <input type="search" name="phone" inputmode="numeric" value=param("phone")
                    placeholder=move || td_string!(i18n.get_locale(), receipts.digits)/></label>
                <label>{t!(i18n, receipts.state)} <select name="state">{state_options}</select></label>
                <label>{t!(i18n, receipts.code)} <input type="text" name="code" value=param("code")
                    placeholder=move || td_string!(i18n.get_locale(), receipts.code_example)/></label>
                <button type="submit">{t!(i18n, receipts.search)}</button>
            </Form>
            <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                <ErrorBoundary fallback=error_view>
                    {move || Suspend::new(async move {
                        page.await.map(|p| {
                            if p.rows.is_empty() {
                                return view! { <p class="empty">{t!(i18n, receipts.empty)}</p> }.into_any();
                            }
                            let when = move |at: Option<chrono::DateTime<chrono::Utc>>| {
                                move || at.map_or_else(|| "—".to_owned(), |at| date_time(i18n.get_locale(), at))
                            };
                            let rows = p.rows.into_iter().map(|m| view! {
                                <tr data-message=m.id>
                                    <td>{m.phone.clone()}</td>
                                    <td>{move || state_name(i18n.get_locale(), m.state)}</td>
                                    <td>{m.code.clone().map(|c| view! { <code>{c}</code> })}</td>
                                    <td>{m.serial.clone().unwrap_or_default()}</td>
                                    <td class="num">{crate::locale::number(m.units)}</td>
                                    <td>{when(m.submitted_at)}</td>
                                    <td>{when(m.done_at)}</td>
                                </tr>
                            }).collect_view();
                            let next = p.next_after.map(|after| {
                                let mut href = format!("?after={after}");
                                let rest = filter().query();
                                if !rest.is_empty() {
                                    href.push('&');
                                    href.push_str(&rest);
                                }
                                href.push_str("#records");
                                view! { <A href=href attr:class="more">{t!(i18n, receipts.next_page)}</A> }
                            });
                            view! {
                                <div class="table-wrap">
                                    <table class="data">
                                        <thead><tr>
                                            <th>{t!(i18n, receipts.number_column)}</th><th>{t!(i18n, receipts.state_column)}</th>
                                            <th>{t!(i18n, receipts.code_column)}</th><th>{t!(i18n, receipts.serial)}</th>
                                            <th>{t!(i18n, receipts.units)}</th><th>{t!(i18n, receipts.submitted)}</th>
                                            <th>{t!(i18n, receipts.outcome_at)}</th>
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
    }
}
