use leptos::prelude::*;

use super::api::{get_balance, AddSmsPackage};
use super::model::PackageType;
use crate::forms::{
    action_error, action_succeeded, error_view, or_dash, Field, FieldMessage, FormAlert,
};
use crate::i18n::{t, td_string, use_i18n, Locale};
use crate::locale::{china_time, date, date_time_minutes, number};

/// A package type in the console's language.
pub fn package_type_name(locale: Locale, package_type: PackageType) -> &'static str {
    match package_type {
        PackageType::Gift => td_string!(locale, balance.gift),
        PackageType::Purchased => td_string!(locale, balance.purchased),
    }
}

/// Settings section: SMS packages (套餐包) and what is left of them.
#[component]
pub fn BalanceSection() -> impl IntoView {
    let add = ServerAction::<AddSmsPackage>::new();
    let overview = Resource::new(move || add.version().get(), |_| get_balance());
    let error = action_error(add);
    let i18n = use_i18n();
    view! {
        <h2>{t!(i18n, balance.heading)}</h2>
        <Transition fallback=|| ()>
            <ErrorBoundary fallback=error_view>
                {move || Suspend::new(async move {
                    overview.await.map(|o| {
                        let now = o.as_of;
                        let rows = o
                            .packages
                            .into_iter()
                            .map(|p| {
                                let (expired, used_up) = (p.expired_at(now), p.available_at(now) == 0);
                                let state = move || {
                                    let locale = i18n.get_locale();
                                    if expired {
                                        td_string!(locale, balance.expired)
                                    } else if used_up {
                                        td_string!(locale, balance.used_up)
                                    } else {
                                        td_string!(locale, balance.active)
                                    }
                                };
                                let (package_type, created_at, expires_at) =
                                    (p.package_type, p.created_at, p.expires_at);
                                view! {
                                    <tr>
                                        <td><code>{p.id}</code></td>
                                        <td>{move || package_type_name(i18n.get_locale(), package_type)}</td>
                                        <td class="num">{number(p.amount)}</td>
                                        <td class="num">{number(p.current_usage)}</td>
                                        <td class="num">{number(p.reserved)}</td>
                                        <td>{move || date(i18n.get_locale(), china_time(created_at).date_naive())}</td>
                                        <td>{move || {
                                            let locale = i18n.get_locale();
                                            match expires_at {
                                                Some(e) => date_time_minutes(locale, e),
                                                None => td_string!(locale, balance.never).to_owned(),
                                            }
                                        }}</td>
                                        <td>{state}</td>
                                        <td>{or_dash(p.note.clone())}</td>
                                    </tr>
                                }
                            })
                            .collect_view();
                        view! {
                            <p class="balance">
                                <strong data-available=o.available>
                                    {t!(i18n, balance.available, n = number(o.available))}
                                </strong>
                                {t!(
                                    i18n,
                                    balance.reserved_used,
                                    reserved = number(o.reserved),
                                    used = number(o.used)
                                )}
                            </p>
                            <div class="table-wrap">
                                <table class="data">
                                    <thead>
                                        <tr>
                                            <th>{t!(i18n, balance.package)}</th>
                                            <th>{t!(i18n, balance.package_kind)}</th>
                                            <th>{t!(i18n, balance.units_col)}</th>
                                            <th>{t!(i18n, balance.used)}</th>
                                            <th>{t!(i18n, balance.reserved)}</th>
                                            <th>{t!(i18n, balance.added_on)}</th>
                                            <th>{t!(i18n, balance.expires)}</th>
                                            <th>{t!(i18n, balance.state)}</th>
                                            <th>{t!(i18n, balance.note)}</th>
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
            <h3>{t!(i18n, balance.add_heading)}</h3>
            <ActionForm action=add attr:class="form narrow">
                <FormAlert error succeeded=action_succeeded(add) success_text=move || td_string!(i18n.get_locale(), balance.added)/>
                <Field label=move || td_string!(i18n.get_locale(), balance.units) name="units" error/>
                <div class="field">
                    <label for="field-package_type">{t!(i18n, balance.package_type)}</label>
                    <select id="field-package_type" name="package_type">
                        <option value="1">{t!(i18n, balance.purchased)}</option>
                        <option value="0">{t!(i18n, balance.gift)}</option>
                    </select>
                    <FieldMessage error name="package_type"/>
                </div>
                <Field label=move || td_string!(i18n.get_locale(), balance.expires_on) name="expires_on" kind="date" required=false error/>
                <Field label=move || td_string!(i18n.get_locale(), balance.note) name="note" required=false error/>
                <button type="submit" class="primary">{t!(i18n, balance.add)}</button>
            </ActionForm>
        </section>
    }
}
