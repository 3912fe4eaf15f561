//! The review queue and one submission's page: signatures and templates side by side, so the
//! page joins three domains.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::accounts::frame::{Area, Guard};
use crate::error::AppError;
use crate::forms::{action_error, error_view, use_id_param, FieldMessage, FormAlert};
use crate::i18n::{t, td_string, use_i18n};
use crate::review::api::{review_queue, ApproveSubmission, RejectSubmission};
use crate::review::model::{describe_age, Subject};
use crate::review::pages::StatusBadge;
use crate::signatures::api::get_signature;
use crate::signatures::model::Signature;
use crate::signatures::pages::SignatureFacts;
use crate::templates::api::get_template;
use crate::templates::model::Template;
use crate::templates::pages::sms_type_name;
use crate::templates::segments::{segments, with_signature};

#[component]
pub fn ReviewQueuePage() -> impl IntoView {
    let queue = Resource::new(|| (), |_| review_queue());
    let i18n = use_i18n();
    view! {
        <Title text=move || td_string!(i18n.get_locale(), review.title)/>
        <Guard area=Area::Review>
            <section class="page">
                <h1>{t!(i18n, review.title)}</h1>
                <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            queue.await.map(|items| {
                                if items.is_empty() {
                                    return view! { <p class="empty">{t!(i18n, review.empty)}</p> }.into_any();
                                }
                                let rows = items
                                    .into_iter()
                                    .map(|i| {
                                        let title = i.title.clone();
                                        let waited = i.waiting_minutes;
                                        view! {
                                        <tr data-title=title>
                                            <td>{move || i.subject.name(i18n.get_locale())}</td>
                                            <td><A href=format!("/review/{}/{}", i.subject.as_str(), i.id)>{i.title.clone()}</A></td>
                                            <td>{i.submitted_by.clone()}</td>
                                            <td><time datetime=i.submitted_at.to_rfc3339()>{move || describe_age(i18n.get_locale(), waited)}</time></td>
                                        </tr>
                                        }
                                    })
                                    .collect_view();
                                view! {
                                    <div class="table-wrap">
                                        <table class="data">
                                            <thead><tr>
                                                <th>{t!(i18n, review.kind)}</th>
                                                <th>{t!(i18n, review.submission)}</th>
                                                <th>{t!(i18n, review.submitted_by)}</th>
                                                <th>{t!(i18n, review.waiting)}</th>
                                            </tr></thead>
                                            <tbody>{rows}</tbody>
                                        </table>
                                    </div>
                                }
                                .into_any()
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
            </section>
        </Guard>
    }
}

#[derive(Clone, Serialize, Deserialize)]
enum Submission {
    Signature(Signature),
    Template(Template),
}

fn submission_view(submission: Submission) -> AnyView {
    match submission {
        Submission::Signature(s) => view! { <SignatureFacts signature=s/> }.into_any(),
        Submission::Template(t) => {
            let i18n = use_i18n();
            let parts = segments(&with_signature("签名", &t.content)).parts;
            let sms_type = t.sms_type;
            let international = t.international;
            view! {
                <dl class="facts">
                    <dt>{t!(i18n, template.template_id)}</dt><dd><code>{t.id}</code></dd>
                    <dt>{t!(i18n, template.status)}</dt><dd><StatusBadge status=t.status.clone()/></dd>
                    <dt>{t!(i18n, template.name)}</dt><dd>{t.name.clone()}</dd>
                    <dt>{t!(i18n, template.sms_kind)}</dt><dd>{move || sms_type_name(i18n.get_locale(), sms_type)}</dd>
                    <dt>{t!(i18n, template.content)}</dt><dd class="content-text">{t.content.clone()}</dd>
                    <dt>{t!(i18n, template.segments)}</dt><dd>{t!(i18n, template.segments_value, parts)}</dd>
                    <dt>{t!(i18n, template.region)}</dt>
                    <dd>{move || if international {
                        td_string!(i18n.get_locale(), template.international)
                    } else {
                        td_string!(i18n.get_locale(), template.mainland)
                    }}</dd>
                    <dt>{t!(i18n, template.remark)}</dt><dd>{t.remark.clone()}</dd>
                    <dt>{t!(i18n, template.submitted_by)}</dt><dd>{t.submitted_by.clone()}</dd>
                </dl>
            }
            .into_any()
        }
    }
}

#[component]
pub fn ReviewItemPage() -> impl IntoView {
    let params = use_params_map();
    let subject = move || params.with(|p| p.get("subject").and_then(|s| Subject::parse(&s)));
    let id = use_id_param();
    let approve = ServerAction::<ApproveSubmission>::new();
    let reject = ServerAction::<RejectSubmission>::new();
    let approve_error = action_error(approve);
    let reject_error = action_error(reject);
    let i18n = use_i18n();
    let details = Resource::new(
        move || (subject(), id()),
        move |(subject, id)| async move {
            match subject {
                Some(Subject::Signature) => get_signature(id).await.map(Submission::Signature),
                Some(Subject::Template) => get_template(id).await.map(Submission::Template),
                None => Err(AppError::NotFound(
                    td_string!(i18n.get_locale_untracked(), review.submission_noun).to_owned(),
                )),
            }
        },
    );
    let heading = move || {
        subject().map(|s| match s {
            Subject::Template => td_string!(i18n.get_locale(), review.heading_template),
            Subject::Signature => td_string!(i18n.get_locale(), review.heading_signature),
        })
    };
    view! {
        <Title text=move || td_string!(i18n.get_locale(), review.title)/>
        <Guard area=Area::Review>
            <section class="page">
                <p><A href="/review">{t!(i18n, review.back)}</A></p>
                <h1>{heading}</h1>
                <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move { details.await.map(submission_view) })}
                    </ErrorBoundary>
                </Transition>
                <div class="decision">
                    <ActionForm action=approve attr:class="form">
                        <FormAlert error=approve_error/>
                        <input type="hidden" name="subject" value=move || subject().map(|s| s.as_str())/>
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="primary">{t!(i18n, review.approve)}</button>
                    </ActionForm>
                    <ActionForm action=reject attr:class="form">
                        <FormAlert error=reject_error/>
                        <input type="hidden" name="subject" value=move || subject().map(|s| s.as_str())/>
                        <input type="hidden" name="id" value=id/>
                        <div class="field">
                            <label for="field-reason">{t!(i18n, review.reason)}</label>
                            <textarea id="field-reason" name="reason" rows="3"></textarea>
                            <FieldMessage error=reject_error name="reason"/>
                        </div>
                        <button type="submit" class="danger">{t!(i18n, review.reject)}</button>
                    </ActionForm>
                </div>
            </section>
        </Guard>
    }
}
