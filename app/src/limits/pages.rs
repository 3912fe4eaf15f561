//! Frequency limits in the console: every application's on Settings → Frequency limits (admins
//! of organisation accounts change them there), and read-only on the application page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::api::{get_frequency_rules, list_frequency_rules, SaveFrequencyRules};
use crate::forms::{action_error, action_succeeded, error_view, use_id_param, Field, FormAlert};
use crate::shell::{Area, Guard};

#[component]
pub fn FrequencyLimitsPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| list_frequency_rules());
    view! {
        <Title text="Frequency limits"/>
        <Guard area=Area::Settings>
            <section class="page">
                <p><A href="/settings">"← Settings"</A></p>
                <h1>"Frequency limits"</h1>
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            overview.await.map(|o| {
                                let note = (!o.organisation_account).then(|| view! {
                                    <p class="alert">"Individual accounts send with Tencent's default limits; switch the account type to Organisation in Settings to change them."</p>
                                });
                                let rows = o.applications.into_iter().map(|(id, name, r)| view! {
                                    <tr data-application=name.clone()>
                                        <td>{name.clone()}</td>
                                        <td class="num">{r.same_content_seconds}</td>
                                        <td class="num">{r.per_hour}</td>
                                        <td class="num">{r.per_day}</td>
                                        <td class="num">{r.app_per_day}</td>
                                        <td>{o.organisation_account.then(|| view! {
                                            <A href=format!("/settings/limits/{id}")>"Change"</A>
                                        })}</td>
                                    </tr>
                                }).collect_view();
                                view! {
                                    {note}
                                    <p class="hint">"0 switches a limit off."</p>
                                    <table class="data">
                                        <thead><tr><th>"Application"</th><th>"Same content (s)"</th><th>"Per number / hour"</th><th>"Per number / day"</th><th>"Application / day"</th><th></th></tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                }
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
            </section>
        </Guard>
    }
}

#[component]
pub fn ApplicationLimitsPage() -> impl IntoView {
    let id = use_id_param();
    view! {
        <Title text="Frequency limits"/>
        <Guard area=Area::Settings>
            <section class="page">
                <p><A href="/settings/limits">"← Frequency limits"</A></p>
                {move || view! { <FrequencyLimitsSection application_id=id() can_change=true/> }}
            </section>
        </Guard>
    }
}

#[component]
pub fn FrequencyLimitsSection(application_id: i64, can_change: bool) -> impl IntoView {
    let save = ServerAction::<SaveFrequencyRules>::new();
    let rules = Resource::new(
        move || save.version().get(),
        move |_| get_frequency_rules(application_id),
    );
    let error = action_error(save);
    view! {
        <h2>"Frequency limits"</h2>
        <p class="hint">"Per number, for bulk tasks, API sends and verification codes alike (0 switches a limit off); days are China-time days. Over a limit a message is refused with Tencent's code."</p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <ErrorBoundary fallback=error_view>
                {move || Suspend::new(async move {
                    rules.await.map(|r| {
                        if !can_change {
                            return view! {
                                <dl class="facts" aria-label="Frequency limits">
                                    <dt>"Same content to a number"</dt><dd>{format!("once per {} s", r.same_content_seconds)}</dd>
                                    <dt>"Per number per hour"</dt><dd>{r.per_hour}</dd>
                                    <dt>"Per number per day"</dt><dd>{r.per_day}</dd>
                                    <dt>"Application per day"</dt><dd>{r.app_per_day}</dd>
                                </dl>
                                <p class="hint">"Admins change these."</p>
                            }.into_any();
                        }
                        view! {
                            <ActionForm action=save attr:class="form narrow" attr:aria-label="Frequency limits">
                                <FormAlert error success=(action_succeeded(save), "Limits saved; they apply to the next message.")/>
                                <input type="hidden" name="application_id" value=application_id/>
                                <Field label="Same content to a number at most once per (seconds)" name="same_content_seconds" kind="number" value=r.same_content_seconds.to_string() error/>
                                <Field label="Messages per number per hour" name="per_hour" kind="number" value=r.per_hour.to_string() error/>
                                <Field label="Messages per number per day" name="per_day" kind="number" value=r.per_day.to_string() error/>
                                <Field label="Messages of the application per day" name="app_per_day" kind="number" value=r.app_per_day.to_string() error/>
                                <button type="submit">"Save limits"</button>
                            </ActionForm>
                        }.into_any()
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}
