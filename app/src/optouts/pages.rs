use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

use super::api::{list_opt_outs, AddOptOut, RemoveOptOut};
use crate::forms::{
    action_error, action_succeeded, encode_query_value, error_view, or_dash, Field, FormAlert,
};
use crate::shell::{Area, Guard};

#[component]
pub fn OptOutsPage() -> impl IntoView {
    let query = use_query_map();
    let add = ServerAction::<AddOptOut>::new();
    let remove = ServerAction::<RemoveOptOut>::new();
    let search = move || query.with(|q| q.get("search"));
    let after = move || query.with(|q| q.get("after"));
    let page = Resource::new(
        move || {
            (
                search(),
                after(),
                add.version().get(),
                remove.version().get(),
            )
        },
        |(search, after, _, _)| list_opt_outs(search, after),
    );
    let error = action_error(add);
    // What an import (a plain multipart form) reported on its way back here.
    let import_report = move || {
        query.with(|q| {
            if let Some(message) = q.get("import_error") {
                return Some((true, message));
            }
            let added = q.get("imported")?;
            let invalid = q.get("invalid").unwrap_or_default();
            let rows = q.get("invalid_rows").filter(|r| !r.is_empty());
            Some((
                false,
                format!(
                    "Imported {added} new number(s); {} already listed; {invalid} row(s) were not numbers{}.",
                    q.get("duplicates").unwrap_or_default(),
                    rows.map(|r| format!(" (rows {r})")).unwrap_or_default()
                ),
            ))
        })
    };
    view! {
        <Title text="Opt-out list"/>
        <Guard area=Area::Settings>
            <section class="page">
                <p><A href="/settings">"← Settings"</A></p>
                <h1>"Opt-out list"</h1>
                <p class="muted">"Bulk sends skip these numbers."</p>
                {move || import_report().map(|(failed, text)| {
                    let class = if failed { "alert alert-error" } else { "alert alert-ok" };
                    view! { <p class=class role="status">{text}</p> }
                })}
                <div class="cards">
                    <section class="card">
                        <h2>"Add a number"</h2>
                        <ActionForm action=add attr:class="form">
                            <FormAlert error success=(action_succeeded(add), "Added.")/>
                            <Field label="Mobile number" name="phone" error/>
                            <Field label="Note" name="note" required=false error/>
                            <button type="submit" class="primary">"Add"</button>
                        </ActionForm>
                    </section>
                    <section class="card">
                        <h2>"Import a CSV"</h2>
                        <form method="post" action="/opt-outs/import" enctype="multipart/form-data" class="form">
                            <div class="field">
                                <label for="opt-out-file">"File (numbers in the first column, at most 5 MB)"</label>
                                <input id="opt-out-file" type="file" name="file" accept=".csv,text/csv,text/plain" required/>
                            </div>
                            <button type="submit">"Import"</button>
                        </form>
                    </section>
                </div>
                <Form method="GET" action="" attr:class="filters">
                    <label>"Search" <input type="search" name="search" value=search/></label>
                    <button type="submit">"Search"</button>
                </Form>
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            page.await.map(|page| {
                                let next = page
                                    .has_more
                                    .then(|| page.entries.last().map(|e| e.phone.clone()))
                                    .flatten();
                                let rows = page
                                    .entries
                                    .into_iter()
                                    .map(|e| {
                                        let (phone, phone_attr) = (e.phone.clone(), e.phone.clone());
                                        view! {
                                            <tr data-phone=phone_attr>
                                                <td><code>{e.phone}</code></td>
                                                <td>{e.source}</td>
                                                <td>{or_dash(e.note)}</td>
                                                <td>{e.added_at.format("%Y-%m-%d %H:%M UTC").to_string()}</td>
                                                <td>
                                                    <ActionForm action=remove attr:class="inline">
                                                        <input type="hidden" name="phone" value=phone/>
                                                        <button type="submit">"Remove"</button>
                                                    </ActionForm>
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view();
                                view! {
                                    <p>{format!("{} number(s) on the list", page.total)}</p>
                                    <div class="table-wrap">
                                        <table class="data">
                                            <thead><tr><th>"Number"</th><th>"Source"</th><th>"Note"</th><th>"Added"</th><th></th></tr></thead>
                                            <tbody>{rows}</tbody>
                                        </table>
                                    </div>
                                    {next.map(|after| view! {
                                        <A href=format!("/settings/opt-outs?after={}", encode_query_value(&after)) attr:class="more">"More →"</A>
                                    })}
                                }
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
            </section>
        </Guard>
    }
}
