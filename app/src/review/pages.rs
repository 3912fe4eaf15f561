use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::api::{review_queue, ApproveSubmission, RejectSubmission};
use serde::{Deserialize, Serialize};

use super::model::{ReviewStatus, Subject};
use crate::error::AppError;
use crate::forms::{action_error, error_view, use_id_param, FieldMessage, FormAlert};
use crate::shell::{Area, Guard};
use crate::signatures::api::get_signature;
use crate::signatures::model::Signature;
use crate::signatures::pages::SignatureFacts;
use crate::templates::api::get_template;
use crate::templates::model::Template;
use crate::templates::segments::{segments, with_signature};

/// A review status in words, with Tencent's StatusCode beside it.
#[component]
pub fn StatusBadge(status: ReviewStatus) -> impl IntoView {
    let class = match status {
        ReviewStatus::Pending => "status status-pending",
        ReviewStatus::Approved => "status status-approved",
        ReviewStatus::Rejected { .. } => "status status-rejected",
    };
    view! {
        <span class=class data-status-code=status.status_code()>
            {status.label()} " " <small>{format!("({})", status.status_code())}</small>
        </span>
    }
}

#[component]
pub fn ReviewQueuePage() -> impl IntoView {
    let queue = Resource::new(|| (), |_| review_queue());
    view! {
        <Title text="Review"/>
        <Guard area=Area::Review>
            <section class="page">
                <h1>"Review"</h1>
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            queue.await.map(|items| {
                                if items.is_empty() {
                                    return view! { <p class="empty">"Nothing is waiting for review."</p> }.into_any();
                                }
                                let rows = items
                                    .into_iter()
                                    .map(|i| {
                                        let title = i.title.clone();
                                        view! {
                                        <tr data-title=title>
                                            <td>{i.subject.label()}</td>
                                            <td><A href=format!("/review/{}/{}", i.subject.as_str(), i.id)>{i.title.clone()}</A></td>
                                            <td>{i.submitted_by.clone()}</td>
                                            <td><time datetime=i.submitted_at.to_rfc3339()>{i.age.clone()}</time></td>
                                        </tr>
                                        }
                                    })
                                    .collect_view();
                                view! {
                                    <div class="table-wrap">
                                        <table class="data">
                                            <thead><tr><th>"Kind"</th><th>"Submission"</th><th>"Submitted by"</th><th>"Waiting"</th></tr></thead>
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
            let parts = segments(&with_signature("签名", &t.content)).parts;
            view! {
                <dl class="facts">
                    <dt>"Template ID"</dt><dd><code>{t.id}</code></dd>
                    <dt>"Status"</dt><dd><StatusBadge status=t.status.clone()/></dd>
                    <dt>"Name"</dt><dd>{t.name.clone()}</dd>
                    <dt>"Type"</dt><dd>{t.sms_type.label()}</dd>
                    <dt>"Content"</dt><dd class="content-text">{t.content.clone()}</dd>
                    <dt>"Segments"</dt><dd>{format!("{parts} (with a 2-character signature, before values)")}</dd>
                    <dt>"Region"</dt><dd>{if t.international { "International" } else { "Mainland China" }}</dd>
                    <dt>"Remark"</dt><dd>{t.remark.clone()}</dd>
                    <dt>"Submitted by"</dt><dd>{t.submitted_by.clone()}</dd>
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
    let details = Resource::new(
        move || (subject(), id()),
        |(subject, id)| async move {
            match subject {
                Some(Subject::Signature) => get_signature(id).await.map(Submission::Signature),
                Some(Subject::Template) => get_template(id).await.map(Submission::Template),
                None => Err(AppError::NotFound("Submission".into())),
            }
        },
    );
    view! {
        <Title text="Review"/>
        <Guard area=Area::Review>
            <section class="page">
                <p><A href="/review">"← Review queue"</A></p>
                <h1>{move || subject().map(|s| format!("Review {}", s.label().to_lowercase()))}</h1>
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move { details.await.map(submission_view) })}
                    </ErrorBoundary>
                </Transition>
                <div class="decision">
                    <ActionForm action=approve attr:class="form">
                        <FormAlert error=approve_error/>
                        <input type="hidden" name="subject" value=move || subject().map(|s| s.as_str())/>
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="primary">"Approve"</button>
                    </ActionForm>
                    <ActionForm action=reject attr:class="form">
                        <FormAlert error=reject_error/>
                        <input type="hidden" name="subject" value=move || subject().map(|s| s.as_str())/>
                        <input type="hidden" name="id" value=id/>
                        <div class="field">
                            <label for="field-reason">"Reason for rejection"</label>
                            <textarea id="field-reason" name="reason" rows="3"></textarea>
                            <FieldMessage error=reject_error name="reason"/>
                        </div>
                        <button type="submit" class="danger">"Reject"</button>
                    </ActionForm>
                </div>
            </section>
        </Guard>
    }
}
