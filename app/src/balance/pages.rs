use leptos::prelude::*;

use super::api::{get_balance, AddSmsPackage};
use crate::forms::{
    action_error, action_succeeded, error_view, or_dash, Field, FieldMessage, FormAlert,
};

/// Settings section: SMS packages (套餐包) and what is left of them.
#[component]
pub fn BalanceSection() -> impl IntoView {
    let add = ServerAction::<AddSmsPackage>::new();
    let overview = Resource::new(move || add.version().get(), |_| get_balance());
    let error = action_error(add);
    view! {
        <h2>"SMS packages"</h2>
        <Transition fallback=|| ()>
            <ErrorBoundary fallback=error_view>
                {move || Suspend::new(async move {
                    overview.await.map(|o| {
                        let now = o.as_of;
                        let rows = o
                            .packages
                            .into_iter()
                            .map(|p| {
                                let state = if p.expired_at(now) {
                                    "Expired"
                                } else if p.available_at(now) == 0 {
                                    "Used up"
                                } else {
                                    "Active"
                                };
                                view! {
                                    <tr>
                                        <td><code>{p.id}</code></td>
                                        <td>{p.package_type.label()}</td>
                                        <td class="num">{p.amount}</td>
                                        <td class="num">{p.current_usage}</td>
                                        <td class="num">{p.reserved}</td>
                                        <td>{p.created_at.format("%Y-%m-%d").to_string()}</td>
                                        <td>{p.expires_at.map(|e| e.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "never".into())}</td>
                                        <td>{state}</td>
                                        <td>{or_dash(p.note.clone())}</td>
                                    </tr>
                                }
                            })
                            .collect_view();
                        view! {
                            <p class="balance">
                                <strong data-available=o.available>{format!("{} units available", o.available)}</strong>
                                {format!(" · {} reserved for started tasks · {} used", o.reserved, o.used)}
                            </p>
                            <div class="table-wrap">
                                <table class="data">
                                    <thead>
                                        <tr>
                                            <th>"Package"</th><th>"Type"</th><th>"Units"</th><th>"Used"</th><th>"Reserved"</th>
                                            <th>"Added"</th><th>"Expires"</th><th>"State"</th><th>"Note"</th>
                                        </tr>
                                    </thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            </div>
                        }
                    })
                })}
            </ErrorBoundary>
        </Transition>
        <section class="panel">
            <h3>"Add a package"</h3>
            <ActionForm action=add attr:class="form narrow">
                <FormAlert error success=(action_succeeded(add), "Package added.")/>
                <Field label="Units (one per billable segment)" name="units" error/>
                <div class="field">
                    <label for="field-package_type">"Package type"</label>
                    <select id="field-package_type" name="package_type">
                        <option value="1">"Purchased"</option>
                        <option value="0">"Gift"</option>
                    </select>
                    <FieldMessage error name="package_type"/>
                </div>
                <Field label="Expires on (optional, end of day, Asia/Shanghai)" name="expires_on" kind="date" required=false error/>
                <Field label="Note" name="note" required=false error/>
                <button type="submit" class="primary">"Add package"</button>
            </ActionForm>
        </section>
    }
}
