use leptos::prelude::*;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

use super::api::list_task_messages;
use super::model::MessageFilter;
use crate::dispatch::model::MessageState;
use crate::forms::error_view;

/// Each recipient's message in a task: search by number, filter by state and code, page by
/// page, and export what the filter selects.
#[component]
pub fn RecipientRecords(task_id: i64) -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &'static str| move || query.with(|q| q.get(name).unwrap_or_default());
    let page = Resource::new(
        move || {
            (
                param("phone")(),
                param("state")(),
                param("code")(),
                param("after")(),
            )
        },
        move |(phone, state, code, after)| {
            list_task_messages(task_id, phone, state, code, after.parse().ok())
        },
    );
    let filter =
        move || MessageFilter::parse(&param("phone")(), &param("state")(), &param("code")());
    let state_options = move || {
        let current = param("state")();
        std::iter::once(
            view! { <option value="" selected=current.is_empty()>"Any state"</option> }.into_any(),
        )
        .chain(MessageState::ALL.into_iter().map(|s| {
            let value = s.code().to_string();
            view! { <option value=value.clone() selected=current == value>{s.label()}</option> }
                .into_any()
        }))
        .collect_view()
    };
    view! {
        <section class="records" id="records">
            <div class="page-head">
                <h2>"Recipients"</h2>
                <a class="button" download
                    href=move || format!("/records/{task_id}/messages.csv?{}", filter().query())>
                    "Export CSV"
                </a>
            </div>
            <Form method="GET" action="" attr:class="filters">
                <label>"Number " <input type="search" name="phone" inputmode="numeric" value=param("phone") placeholder="digits"/></label>
                <label>"State " <select name="state">{state_options}</select></label>
                <label>"Code " <input type="text" name="code" value=param("code") placeholder="e.g. UNDELIV"/></label>
                <button type="submit">"Search"</button>
            </Form>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                <ErrorBoundary fallback=error_view>
                    {move || Suspend::new(async move {
                        page.await.map(|p| {
                            if p.rows.is_empty() {
                                return view! { <p class="empty">"No recipients match."</p> }.into_any();
                            }
                            let rows = p.rows.into_iter().map(|m| view! {
                                <tr data-message=m.id>
                                    <td>{m.phone.clone()}</td>
                                    <td>{m.state.label()}</td>
                                    <td>{m.code.clone().map(|c| view! { <code>{c}</code> })}</td>
                                    <td>{m.serial.clone().unwrap_or_default()}</td>
                                    <td class="num">{m.units}</td>
                                    <td>{m.submitted_at.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td>{m.done_at.clone().unwrap_or_else(|| "—".into())}</td>
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
                                view! { <A href=href attr:class="more">"Next page →"</A> }
                            });
                            view! {
                                <div class="table-wrap">
                                    <table class="data">
                                        <thead><tr>
                                            <th>"Number"</th><th>"State"</th><th>"Code"</th><th>"Serial"</th>
                                            <th>"Units"</th><th>"Submitted (China time)"</th><th>"Outcome at"</th>
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
