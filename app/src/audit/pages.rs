use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

use super::api::list_audit;
use super::model::AuditFilter;
use crate::forms::error_view;
use crate::shell::{Area, Guard};

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| query.with(|q| AuditFilter::from_query(|key| q.get(key))));
    let page = Resource::new(move || filter.get(), list_audit);

    view! {
        <Title text="Audit log"/>
        <Guard area=Area::AuditLog>
            <section class="page">
                <h1>"Audit log"</h1>
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            let current = filter.get_untracked();
                            page.await.map(|data| {
                                let options = |values: Vec<String>, selected: Option<String>| {
                                    values
                                        .into_iter()
                                        .map(|v| {
                                            let is_selected = selected.as_deref() == Some(v.as_str());
                                            view! { <option value=v.clone() selected=is_selected>{v.clone()}</option> }
                                        })
                                        .collect_view()
                                };
                                let next = data
                                    .has_more
                                    .then(|| data.entries.last().map(|e| current.next_page_query(e.id)))
                                    .flatten();
                                let rows = data
                                    .entries
                                    .into_iter()
                                    .map(|e| {
                                        view! {
                                            <tr>
                                                <td><time datetime=e.at.to_rfc3339()>{e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</time></td>
                                                <td>{e.actor_email.unwrap_or_else(|| "—".into())}</td>
                                                <td><code>{e.action}</code></td>
                                                <td>{e.object_type}{e.object_id.map(|id| format!(" #{id}"))}</td>
                                                <td>{e.ip.unwrap_or_default()}</td>
                                                <td class="details"><code>{e.details}</code></td>
                                            </tr>
                                        }
                                    })
                                    .collect_view();
                                view! {
                                    <Form method="GET" action="" attr:class="filters">
                                        <label>"Actor" <input type="search" name="actor" value=current.actor.clone()/></label>
                                        <label>"Action"
                                            <select name="action">
                                                <option value="">"Any"</option>
                                                {options(data.actions, current.action.clone())}
                                            </select>
                                        </label>
                                        <label>"Object"
                                            <select name="object_type">
                                                <option value="">"Any"</option>
                                                {options(data.object_types, current.object_type.clone())}
                                            </select>
                                        </label>
                                        <label>"From" <input type="date" name="from" value=current.from.map(|d| d.to_string())/></label>
                                        <label>"To" <input type="date" name="to" value=current.to.map(|d| d.to_string())/></label>
                                        <button type="submit">"Filter"</button>
                                        <A href="/audit">"Clear"</A>
                                    </Form>
                                    <div class="table-wrap">
                                        <table class="data audit">
                                            <thead>
                                                <tr>
                                                    <th>"When"</th>
                                                    <th>"Who"</th>
                                                    <th>"Action"</th>
                                                    <th>"Object"</th>
                                                    <th>"From"</th>
                                                    <th>"Details"</th>
                                                </tr>
                                            </thead>
                                            <tbody>{rows}</tbody>
                                        </table>
                                    </div>
                                    {next.map(|q| view! { <A href=format!("/audit?{q}") attr:class="more">"Older entries →"</A> })}
                                }
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
            </section>
        </Guard>
    }
}
