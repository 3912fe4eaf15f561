//! Frequency limits in the console: every application's on Settings → Frequency limits (admins
//! of organisation accounts change them there), and read-only on the application page.

use leptos::prelude::*;
use leptos_router::components::A;

use super::api::{get_frequency_rules, list_frequency_rules, SaveFrequencyRules};
use crate::accounts::settings::{Section, SettingsFrame};
use crate::forms::{action_error, action_succeeded, error_view, use_id_param, Field, FormAlert};
use crate::i18n::{t, td_string, use_i18n};
use crate::locale::number;

#[component]
pub fn FrequencyLimitsPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| list_frequency_rules());
    let i18n = use_i18n();
    view! {
        <SettingsFrame section=Section::Limits>
            <h2>{t!(i18n, limits.title)}</h2>
            <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                <ErrorBoundary fallback=error_view>
                    {move || Suspend::new(async move {
                        overview.await.map(|o| {
                            let note = (!o.organisation_account).then(|| view! {
                                <p class="alert">{t!(i18n, limits.individual_note)}</p>
                            });
                            let rows = o.applications.into_iter().map(|(id, name, r)| view! {
                                <tr data-application=name.clone()>
                                    <td>{name.clone()}</td>
                                    <td class="num">{number(r.same_content_seconds.into())}</td>
                                    <td class="num">{number(r.per_hour.into())}</td>
                                    <td class="num">{number(r.per_day.into())}</td>
                                    <td class="num">{number(r.app_per_day as i64)}</td>
                                    <td>{o.organisation_account.then(|| view! {
                                        <A href=format!("/settings/limits/{id}")>{t!(i18n, limits.change)}</A>
                                    })}</td>
                                </tr>
                            }).collect_view();
                            view! {
                                {note}
                                <p class="hint">{t!(i18n, limits.zero_off)}</p>
                                <table class="data">
                                    <thead><tr>
                                        <th>{t!(i18n, limits.application)}</th>
                                        <th>{t!(i18n, limits.same_content_col)}</th>
                                        <th>{t!(i18n, limits.per_hour_col)}</th>
                                        <th>{t!(i18n, limits.per_day_col)}</th>
                                        <th>{t!(i18n, limits.app_day_col)}</th>
                                        <th></th>
                                    </tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            }
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </SettingsFrame>
    }
}

#[component]
pub fn ApplicationLimitsPage() -> impl IntoView {
    let id = use_id_param();
    let i18n = use_i18n();
    view! {
        <SettingsFrame section=Section::Limits>
            <p><A href="/settings/limits">{t!(i18n, limits.back_limits)}</A></p>
            <FrequencyLimitsSection application_id=Signal::derive(id) can_change=true/>
        </SettingsFrame>
    }
}

#[component]
pub fn FrequencyLimitsSection(
    #[prop(into)] application_id: Signal<i64>,
    can_change: bool,
) -> impl IntoView {
    let save = ServerAction::<SaveFrequencyRules>::new();
    let rules = Resource::new(
        move || (application_id.get(), save.version().get()),
        |(application_id, _)| get_frequency_rules(application_id),
    );
    let error = action_error(save);
    let i18n = use_i18n();
    view! {
        <h2>{t!(i18n, limits.title)}</h2>
        <p class="hint">{t!(i18n, limits.hint)}</p>
        <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
            <ErrorBoundary fallback=error_view>
                {move || Suspend::new(async move {
                    rules.await.map(|r| {
                        if !can_change {
                            return view! {
                                <dl class="facts" aria-label=move || td_string!(i18n.get_locale(), limits.title)>
                                    <dt>{t!(i18n, limits.same_content)}</dt>
                                    <dd>{t!(i18n, limits.once_per, n = number(r.same_content_seconds.into()))}</dd>
                                    <dt>{t!(i18n, limits.per_number_hour)}</dt>
                                    <dd>{number(r.per_hour.into())}</dd>
                                    <dt>{t!(i18n, limits.per_number_day)}</dt>
                                    <dd>{number(r.per_day.into())}</dd>
                                    <dt>{t!(i18n, limits.app_per_day)}</dt>
                                    <dd>{number(r.app_per_day as i64)}</dd>
                                </dl>
                                <p class="hint">{t!(i18n, limits.admins_change)}</p>
                            }.into_any();
                        }
                        view! {
                            <ActionForm action=save attr:class="form narrow" attr:aria-label=move || td_string!(i18n.get_locale(), limits.title)>
                                <FormAlert error succeeded=action_succeeded(save) success_text=move || td_string!(i18n.get_locale(), limits.saved)/>
                                <input type="hidden" name="application_id" value=move || application_id.get()/>
                                <Field label=move || td_string!(i18n.get_locale(), limits.field_same_content) name="same_content_seconds" kind="number" value=r.same_content_seconds.to_string() error/>
                                <Field label=move || td_string!(i18n.get_locale(), limits.field_per_hour) name="per_hour" kind="number" value=r.per_hour.to_string() error/>
                                <Field label=move || td_string!(i18n.get_locale(), limits.field_per_day) name="per_day" kind="number" value=r.per_day.to_string() error/>
                                <Field label=move || td_string!(i18n.get_locale(), limits.field_app_per_day) name="app_per_day" kind="number" value=r.app_per_day.to_string() error/>
                                <button type="submit">{t!(i18n, limits.save)}</button>
                            </ActionForm>
                        }.into_any()
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}
