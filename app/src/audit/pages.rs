use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

use super::api::list_audit;
use super::model::AuditFilter;
use crate::accounts::frame::{Area, Guard};
use crate::forms::error_view;
use crate::i18n::{t, td_string, use_i18n};
use crate::locale::{date_time, zone_label};

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| query.with(|q| AuditFilter::from_query(|key| q.get(key))));
    let page = Resource::new(move || filter.get(), list_audit);
    let i18n = use_i18n();

    view! {
        <Title text=move || td_string!(i18n.get_locale(), audit.title)/>
        <Guard area=Area::AuditLog>
            <section class="page">
                <h1>{t!(i18n, audit.title)}</h1>
                <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
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
                                        let at = e.at;
                                        view! {
                                            <tr>
                                                <td><time datetime=e.at.to_rfc3339()>{move || date_time(i18n.get_locale(), at)}</time></td>
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
                                        <label>{t!(i18n, audit.actor)}" "<input type="search" name="actor" value=current.actor.clone()/></label>
                                        <label>{t!(i18n, audit.action)}
                                            <select name="action">
                                                <option value="">{t!(i18n, audit.any)}</option>
                                                {options(data.actions, current.action.clone())}
                                            </select>
                                        </label>
                                        <label>{t!(i18n, audit.object)}
                                            <select name="object_type">
                                                <option value="">{t!(i18n, audit.any)}</option>
                                                {options(data.object_types, current.object_type.clone())}
                                            </select>
                                        </label>
                                        <label>{t!(i18n, audit.from)}" "<input type="date" name="from" value=current.from.map(|d| d.to_string())/></label>
                                        <label>{t!(i18n, audit.to)}" "<input type="date" name="to" value=current.to.map(|d| d.to_string())/></label>
                                        <span class="hint">{move || zone_label(i18n.get_locale())}</span>
                                        <button type="submit">{t!(i18n, audit.filter)}</button>
                                        <A href="/audit">{t!(i18n, audit.clear)}</A>
                                    </Form>
                                    <div class="table-wrap">
                                        <table class="data audit">
                                            <thead>
                                                <tr>
                                                    <th>{t!(i18n, audit.when)}</th>
                                                    <th>{t!(i18n, audit.who)}</th>
                                                    <th>{t!(i18n, audit.action)}</th>
                                                    <th>{t!(i18n, audit.object)}</th>
                                                    <th>{t!(i18n, audit.from_ip)}</th>
                                                    <th>{t!(i18n, audit.details)}</th>
                                                </tr>
                                            </thead>
                                            <tbody>{rows}</tbody>
                                        </table>
                                    </div>
                                    {next.map(|q| view! { <A href=format!("/audit?{q}") attr:class="more">{t!(i18n, audit.older)}</A> })}
                                }
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
            </section>
        </Guard>
    }
}
