use leptos::prelude::*;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

use super::api::{list_opt_outs, AddOptOut, RemoveOptOut};
use crate::accounts::settings::{Section, SettingsFrame};
use crate::forms::{
    action_error, action_succeeded, encode_query_value, error_view, or_dash, Field, FormAlert,
};
use crate::i18n::{t, td_string, use_i18n, Locale};
use crate::locale::{date_time_minutes, number};

/// Where an entry came from, in the console's language (unknown sources as stored).
fn source_name(locale: Locale, source: &str) -> String {
    match source {
        "console" => td_string!(locale, optout.source_console).to_owned(),
        "import" => td_string!(locale, optout.source_import).to_owned(),
        other => other.to_owned(),
    }
}

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
    let i18n = use_i18n();
    // What an import (a plain multipart form) reported on its way back here.
    let import_report = move || {
        let locale = i18n.get_locale();
        query.with(|q| {
            if let Some(message) = q.get("import_error") {
                return Some((true, message));
            }
            let added = q.get("imported")?;
            let invalid = q.get("invalid").unwrap_or_default();
            let rows = q
                .get("invalid_rows")
                .filter(|r| !r.is_empty())
                .map(|rows| td_string!(locale, optout.invalid_rows, rows).to_string())
                .unwrap_or_default();
            Some((
                false,
                td_string!(
                    locale,
                    optout.imported,
                    added,
                    duplicates = q.get("duplicates").unwrap_or_default(),
                    invalid,
                    rows
                )
                .to_string(),
            ))
        })
    };
    view! {
        <SettingsFrame section=Section::OptOuts>
            <h2>{t!(i18n, optout.title)}</h2>
            <p class="muted">{t!(i18n, optout.intro)}</p>
            {move || import_report().map(|(failed, text)| {
                let class = if failed { "alert alert-error" } else { "alert alert-ok" };
                view! { <p class=class role="status">{text}</p> }
            })}
            <div class="cards">
                <section class="card">
                    <h2>{t!(i18n, optout.add_heading)}</h2>
                    <ActionForm action=add attr:class="form">
                        <FormAlert error succeeded=action_succeeded(add)
                            success_text=move || td_string!(i18n.get_locale(), optout.added)/>
                        <Field label=move || td_string!(i18n.get_locale(), optout.phone) name="phone" error/>
                        <Field label=move || td_string!(i18n.get_locale(), optout.note) name="note" required=false error/>
                        <button type="submit" class="primary">{t!(i18n, optout.add)}</button>
                    </ActionForm>
                </section>
                <section class="card">
                    <h2>{t!(i18n, optout.import_heading)}</h2>
                    <form method="post" action="/opt-outs/import" enctype="multipart/form-data" class="form">
                        <div class="field">
                            <label for="opt-out-file">{t!(i18n, optout.file)}</label>
                            <input id="opt-out-file" type="file" name="file" accept=".csv,text/csv,text/plain" required/>
                        </div>
                        <button type="submit">{t!(i18n, optout.import)}</button>
                    </form>
                </section>
            </div>
            <Form method="GET" action="" attr:class="filters">
                <label>{t!(i18n, optout.search)} <input type="search" name="search" value=search/></label>
                <button type="submit">{t!(i18n, optout.search)}</button>
            </Form>
            <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                <ErrorBoundary fallback=error_view>
                    {move || Suspend::new(async move {
                        page.await.map(|page| {
                            let total = page.total;
                            let next = page
                                .has_more
                                .then(|| page.entries.last().map(|e| e.phone.clone()))
                                .flatten();
                            let rows = page
                                .entries
                                .into_iter()
                                .map(|e| {
                                    let (phone, phone_attr) = (e.phone.clone(), e.phone.clone());
                                    let (source, added_at) = (e.source, e.added_at);
                                    view! {
                                        <tr data-phone=phone_attr>
                                            <td><code>{e.phone}</code></td>
                                            <td>{move || source_name(i18n.get_locale(), &source)}</td>
                                            <td>{or_dash(e.note)}</td>
                                            <td>{move || date_time_minutes(i18n.get_locale(), added_at)}</td>
                                            <td>
                                                <ActionForm action=remove attr:class="inline">
                                                    <input type="hidden" name="phone" value=phone/>
                                                    <button type="submit">{t!(i18n, optout.remove)}</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view();
                            view! {
                                <p>{t!(i18n, optout.count, count = number(total))}</p>
                                <div class="table-wrap">
                                    <table class="data">
                                        <thead><tr>
                                            <th>{t!(i18n, optout.number)}</th>
                                            <th>{t!(i18n, optout.source)}</th>
                                            <th>{t!(i18n, optout.note)}</th>
                                            <th>{t!(i18n, optout.added_at)}</th>
                                            <th></th>
                                        </tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                </div>
                                {next.map(|after| view! {
                                    <A href=format!("/settings/opt-outs?after={}", encode_query_value(&after)) attr:class="more">{t!(i18n, optout.more)}</A>
                                })}
                            }
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </SettingsFrame>
    }
}
