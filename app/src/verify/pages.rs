//! The application page's verification-code section: settings, the public key, and a demo of
//! the seed's login flow with the message log of the codes sent.

use leptos::prelude::*;

use super::api::{
    get_verify_setup, recent_codes, DemoGetSms, DemoLogin, NewVerifyKey, SaveVerifySettings,
};
use crate::dispatch::model::MessageState;
use crate::forms::{action_error, action_succeeded, error_view, Field, FieldMessage, FormAlert};
use crate::i18n::{t, td_string, use_i18n, Locale};
use crate::locale::date_time;

/// A code's message state in the console's language.
fn state_name(locale: Locale, state: Option<MessageState>) -> &'static str {
    match state {
        Some(state) => crate::receipts::model::state_name(locale, state),
        None => td_string!(locale, verify.unknown_state),
    }
}

#[component]
pub fn VerifySection(#[prop(into)] application_id: Signal<i64>) -> impl IntoView {
    let save = ServerAction::<SaveVerifySettings>::new();
    let new_key = ServerAction::<NewVerifyKey>::new();
    let get_sms = ServerAction::<DemoGetSms>::new();
    let login = ServerAction::<DemoLogin>::new();
    let setup = Resource::new(
        move || {
            (
                application_id.get(),
                save.version().get(),
                new_key.version().get(),
            )
        },
        |(application_id, _, _)| get_verify_setup(application_id),
    );
    let log = Resource::new(
        move || {
            (
                application_id.get(),
                get_sms.version().get(),
                login.version().get(),
            )
        },
        |(application_id, _, _)| recent_codes(application_id),
    );
    let error = action_error(save);
    let i18n = use_i18n();
    // The reply is the /verify endpoint's own (its codes and messages are the API's).
    let reply = move |action_value: Option<
        Result<super::model::VerifyReply, crate::error::AppError>,
    >| {
        action_value.map(|r| match r {
            Ok(reply) => {
                let class = if reply.is_ok() { "alert alert-ok" } else { "alert alert-error" };
                view! { <p class=class role="status" data-verify-code=reply.code.clone()>{format!("{}: {}", reply.code, reply.message)}</p> }.into_any()
            }
            Err(err) => view! { <p class="alert alert-error" role="alert">{move || err.message(i18n.get_locale())}</p> }.into_any(),
        })
    };
    view! {
        <h2>{t!(i18n, verify.heading)}</h2>
        <p class="hint">{t!(i18n, verify.hint)}</p>
        <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
            <ErrorBoundary fallback=error_view>
                {move || Suspend::new(async move {
                    setup.await.map(|setup| {
                        let s = setup.settings.clone();
                        view! {
                            <dl class="facts">
                                <dt>{t!(i18n, verify.public_key)}</dt><dd><code data-public-key="">{s.public_key.clone()}</code></dd>
                            </dl>
                            <ActionForm action=new_key attr:class="inline">
                                <input type="hidden" name="application_id" value=move || application_id.get()/>
                                <button type="submit">{t!(i18n, verify.replace_key)}</button>
                            </ActionForm>
                            <ActionForm action=save attr:class="form narrow">
                                <FormAlert error succeeded=action_succeeded(save)
                                    success_text=move || td_string!(i18n.get_locale(), verify.saved)/>
                                <input type="hidden" name="application_id" value=move || application_id.get()/>
                                <div class="field">
                                    <label for="verify-template">{t!(i18n, verify.template)}</label>
                                    <select id="verify-template" name="template_id">
                                        <option value="" selected=s.template_id.is_none()>{t!(i18n, verify.not_set)}</option>
                                        {setup.templates.iter().map(|(id, label)| view! {
                                            <option value=*id selected=s.template_id == Some(*id)>{label.clone()}</option>
                                        }).collect_view()}
                                    </select>
                                    <FieldMessage error name="template_id"/>
                                </div>
                                <div class="field">
                                    <label for="verify-signature">{t!(i18n, verify.signature)}</label>
                                    <select id="verify-signature" name="signature_id">
                                        <option value="" selected=s.signature_id.is_none()>{t!(i18n, verify.not_set)}</option>
                                        {setup.signatures.iter().map(|(id, label)| view! {
                                            <option value=*id selected=s.signature_id == Some(*id)>{label.clone()}</option>
                                        }).collect_view()}
                                    </select>
                                    <FieldMessage error name="signature_id"/>
                                </div>
                                <Field label=move || td_string!(i18n.get_locale(), verify.validity) name="validity_minutes" kind="number"
                                    value=s.validity_minutes.to_string() error/>
                                <Field label=move || td_string!(i18n.get_locale(), verify.per_ip) name="per_ip_hourly" kind="number"
                                    value=s.per_ip_hourly.to_string() error/>
                                <Field label=move || td_string!(i18n.get_locale(), verify.per_prefix) name="per_prefix_hourly" kind="number"
                                    value=s.per_prefix_hourly.to_string() error
                                    hint=move || td_string!(i18n.get_locale(), verify.per_prefix_hint)/>
                                <button type="submit" class="primary">{t!(i18n, verify.save)}</button>
                            </ActionForm>
                        }
                    })
                })}
            </ErrorBoundary>
        </Transition>
        <h3>{t!(i18n, verify.try_it)}</h3>
        <ActionForm action=get_sms attr:class="form narrow"
            attr:aria-label=move || td_string!(i18n.get_locale(), verify.get_code_form)>
            <input type="hidden" name="application_id" value=move || application_id.get()/>
            <div class="field">
                <label for="demo-phone">{t!(i18n, verify.mobile)}</label>
                <input id="demo-phone" name="phone" required placeholder="8613800000000"/>
            </div>
            {move || reply(get_sms.value().get())}
            <button type="submit">{t!(i18n, verify.get_code)}</button>
        </ActionForm>
        <ActionForm action=login attr:class="form narrow"
            attr:aria-label=move || td_string!(i18n.get_locale(), verify.login_form)>
            <input type="hidden" name="application_id" value=move || application_id.get()/>
            <div class="field">
                <label for="demo-login-phone">{t!(i18n, verify.mobile)}</label>
                <input id="demo-login-phone" name="phone" required placeholder="8613800000000"/>
            </div>
            <div class="field">
                <label for="demo-code">{t!(i18n, verify.code)}</label>
                <input id="demo-code" name="code" inputmode="numeric" autocomplete="one-time-code"/>
            </div>
            {move || reply(login.value().get())}
            <button type="submit">{t!(i18n, verify.log_in)}</button>
        </ActionForm>
        <h3>{t!(i18n, verify.codes_sent)}</h3>
        <Transition fallback=|| ()>
            <ErrorBoundary fallback=error_view>
                {move || Suspend::new(async move {
                    log.await.map(|codes| {
                        if codes.is_empty() {
                            return view! { <p class="empty">{t!(i18n, verify.no_codes)}</p> }.into_any();
                        }
                        view! {
                            <table class="data" aria-label=move || td_string!(i18n.get_locale(), verify.codes_sent)>
                                <thead><tr>
                                    <th>{t!(i18n, verify.number)}</th><th>{t!(i18n, verify.message)}</th>
                                    <th>{t!(i18n, verify.state)}</th><th>{t!(i18n, verify.sent_at)}</th>
                                </tr></thead>
                                <tbody>{codes.into_iter().map(|c| {
                                    let (state, at) = (c.state, c.at);
                                    view! {
                                    <tr><td>{c.phone}</td><td data-sms="">{c.text}</td>
                                        <td>{move || state_name(i18n.get_locale(), state)}</td>
                                        <td>{move || date_time(i18n.get_locale(), at)}</td></tr>
                                    }
                                }).collect_view()}</tbody>
                            </table>
                        }.into_any()
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}
