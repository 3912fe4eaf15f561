//! The application page's verification-code section: settings, the public key, and a demo of
//! the seed's login flow with the message log of the codes sent.

use leptos::prelude::*;

use super::api::{
    get_verify_setup, recent_codes, DemoGetSms, DemoLogin, NewVerifyKey, SaveVerifySettings,
};
use crate::forms::{action_error, action_succeeded, error_view, Field, FieldMessage, FormAlert};

#[component]
pub fn VerifySection(application_id: i64) -> impl IntoView {
    let save = ServerAction::<SaveVerifySettings>::new();
    let new_key = ServerAction::<NewVerifyKey>::new();
    let get_sms = ServerAction::<DemoGetSms>::new();
    let login = ServerAction::<DemoLogin>::new();
    let setup = Resource::new(
        move || (save.version().get(), new_key.version().get()),
        move |_| get_verify_setup(application_id),
    );
    let log = Resource::new(
        move || (get_sms.version().get(), login.version().get()),
        move |_| recent_codes(application_id),
    );
    let error = action_error(save);
    let reply = move |action_value: Option<
        Result<super::model::VerifyReply, crate::error::AppError>,
    >| {
        action_value.map(|r| match r {
            Ok(reply) => {
                let class = if reply.is_ok() { "alert alert-ok" } else { "alert alert-error" };
                view! { <p class=class role="status" data-verify-code=reply.code.clone()>{format!("{}: {}", reply.code, reply.message)}</p> }.into_any()
            }
            Err(err) => view! { <p class="alert alert-error" role="alert">{err.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <h2>"Verification codes"</h2>
        <p class="hint">"getSms sends a 6-digit code with the template below ({1} the code, {2} the minutes it is valid); login checks it. Login pages call POST /verify with the public key."</p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            <ErrorBoundary fallback=error_view>
                {move || Suspend::new(async move {
                    setup.await.map(|setup| {
                        let s = setup.settings.clone();
                        view! {
                            <dl class="facts">
                                <dt>"Public key"</dt><dd><code data-public-key="">{s.public_key.clone()}</code></dd>
                            </dl>
                            <ActionForm action=new_key attr:class="inline">
                                <input type="hidden" name="application_id" value=application_id/>
                                <button type="submit">"Replace the public key"</button>
                            </ActionForm>
                            <ActionForm action=save attr:class="form narrow">
                                <FormAlert error success=(action_succeeded(save), "Saved.")/>
                                <input type="hidden" name="application_id" value=application_id/>
                                <div class="field">
                                    <label for="verify-template">"Template"</label>
                                    <select id="verify-template" name="template_id">
                                        <option value="" selected=s.template_id.is_none()>"Not set"</option>
                                        {setup.templates.iter().map(|(id, label)| view! {
                                            <option value=*id selected=s.template_id == Some(*id)>{label.clone()}</option>
                                        }).collect_view()}
                                    </select>
                                    <FieldMessage error name="template_id"/>
                                </div>
                                <div class="field">
                                    <label for="verify-signature">"Signature"</label>
                                    <select id="verify-signature" name="signature_id">
                                        <option value="" selected=s.signature_id.is_none()>"Not set"</option>
                                        {setup.signatures.iter().map(|(id, label)| view! {
                                            <option value=*id selected=s.signature_id == Some(*id)>{label.clone()}</option>
                                        }).collect_view()}
                                    </select>
                                    <FieldMessage error name="signature_id"/>
                                </div>
                                <Field label="Valid for (minutes)" name="validity_minutes" kind="number" value=s.validity_minutes.to_string() error/>
                                <Field label="getSms per client address per hour (0: no limit)" name="per_ip_hourly" kind="number" value=s.per_ip_hourly.to_string() error/>
                                <Field label="getSms per number prefix per hour (0: no limit)" name="per_prefix_hourly" kind="number" value=s.per_prefix_hourly.to_string() error
                                    hint="The country code and first 7 digits: SMS pumping walks through one range of numbers."/>
                                <button type="submit" class="primary">"Save verification settings"</button>
                            </ActionForm>
                        }
                    })
                })}
            </ErrorBoundary>
        </Transition>
        <h3>"Try it"</h3>
        <ActionForm action=get_sms attr:class="form narrow" attr:aria-label="Get a code">
            <input type="hidden" name="application_id" value=application_id/>
            <div class="field">
                <label for="demo-phone">"Mobile number"</label>
                <input id="demo-phone" name="phone" required placeholder="8613800000000"/>
            </div>
            {move || reply(get_sms.value().get())}
            <button type="submit">"Get code"</button>
        </ActionForm>
        <ActionForm action=login attr:class="form narrow" attr:aria-label="Log in with the code">
            <input type="hidden" name="application_id" value=application_id/>
            <div class="field">
                <label for="demo-login-phone">"Mobile number"</label>
                <input id="demo-login-phone" name="phone" required placeholder="8613800000000"/>
            </div>
            <div class="field">
                <label for="demo-code">"Code"</label>
                <input id="demo-code" name="code" inputmode="numeric" autocomplete="one-time-code"/>
            </div>
            {move || reply(login.value().get())}
            <button type="submit">"Log in"</button>
        </ActionForm>
        <h3>"Codes sent"</h3>
        <Transition fallback=|| ()>
            <ErrorBoundary fallback=error_view>
                {move || Suspend::new(async move {
                    log.await.map(|codes| {
                        if codes.is_empty() {
                            return view! { <p class="empty">"No codes sent yet."</p> }.into_any();
                        }
                        view! {
                            <table class="data" aria-label="Codes sent">
                                <thead><tr><th>"Number"</th><th>"Message"</th><th>"State"</th><th>"Sent (UTC)"</th></tr></thead>
                                <tbody>{codes.into_iter().map(|c| view! {
                                    <tr><td>{c.phone}</td><td data-sms="">{c.text}</td><td>{c.state}</td><td>{c.at.format("%Y-%m-%d %H:%M:%S").to_string()}</td></tr>
                                }).collect_view()}</tbody>
                            </table>
                        }.into_any()
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}
