use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use super::api::{
    get_signature, list_signatures, CreateSignature, DeleteSignature, UpdateSignature,
};
use super::model::{DocumentFormat, DocumentType, SignPurpose, SignType, Signature};
use crate::error::AppError;
use crate::forms::{action_error, error_view, use_id_param, Field, FieldMessage, FormAlert};
use crate::review::model::ReviewStatus;
use crate::review::pages::StatusBadge;
use crate::shell::{Area, Guard};

#[component]
pub fn SignaturesPage() -> impl IntoView {
    let signatures = Resource::new(|| (), |_| list_signatures());
    view! {
        <Title text="Signatures"/>
        <Guard area=Area::Signatures>
            <section class="page">
                <div class="page-head">
                    <h1>"Signatures"</h1>
                    <A href="/signatures/new" attr:class="button primary">"New signature"</A>
                </div>
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            signatures.await.map(|list| {
                                if list.is_empty() {
                                    return view! { <p class="empty">"No signatures yet."</p> }.into_any();
                                }
                                let rows = list
                                    .into_iter()
                                    .map(|s| view! {
                                        <tr data-signature=s.content.clone()>
                                            <td><code>{s.id}</code></td>
                                            <td><A href=format!("/signatures/{}", s.id)>{format!("【{}】", s.content)}</A></td>
                                            <td>{s.sign_type.label()}</td>
                                            <td><StatusBadge status=s.status.clone()/></td>
                                            <td>{s.submitted_by.clone()}</td>
                                        </tr>
                                    })
                                    .collect_view();
                                view! {
                                    <div class="table-wrap">
                                        <table class="data">
                                            <thead><tr><th>"ID"</th><th>"Signature"</th><th>"Type"</th><th>"Status"</th><th>"Submitted by"</th></tr></thead>
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

/// Step one: the documents, posted as a plain multipart form (it works without JavaScript and
/// comes back to `return_to` with the stored ids, or with the reason they were refused).
#[component]
fn DocumentUpload(return_to: String) -> impl IntoView {
    let query = use_query_map();
    let upload_error = move |field: &'static str| {
        query.with(|q| {
            (q.get("upload_field").as_deref() == Some(field))
                .then(|| q.get("upload_error"))
                .flatten()
        })
    };
    view! {
        <form method="post" action="/documents" enctype="multipart/form-data" class="form upload">
            <input type="hidden" name="return_to" value=return_to/>
            <div class="field">
                <label for="certificate">"Certificate (PNG, JPEG or PDF, at most 5 MB)"</label>
                <input id="certificate" type="file" name="certificate" accept="image/png,image/jpeg,application/pdf" required/>
                {move || upload_error("certificate").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </div>
            <div class="field">
                <label for="authorisation">"Authorisation letter (only for a third party's signature)"</label>
                <input id="authorisation" type="file" name="authorisation" accept="image/png,image/jpeg,application/pdf"/>
                {move || upload_error("authorisation").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </div>
            <button type="submit">"Upload documents"</button>
        </form>
    }
}

/// The signature's own fields; the certificate types offered follow the chosen signature type.
#[component]
fn SignatureFields(
    initial: Option<Signature>,
    certificate_id: Option<i64>,
    authorisation_id: Option<i64>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let sign_type = RwSignal::new(
        initial
            .as_ref()
            .map(|s| s.sign_type)
            .unwrap_or(SignType::Company),
    );
    let chosen_document = initial.as_ref().map(|s| s.document_type);
    let purpose = initial
        .as_ref()
        .map(|s| s.purpose)
        .unwrap_or(SignPurpose::OwnUse);
    let content = initial
        .as_ref()
        .map(|s| s.content.clone())
        .unwrap_or_default();
    let remark = initial
        .as_ref()
        .map(|s| s.remark.clone())
        .unwrap_or_default();
    let international = initial.as_ref().is_some_and(|s| s.international);
    let type_options = SignType::ALL
        .into_iter()
        .map(|t| view! { <option value=t.code() selected=t == sign_type.get_untracked()>{t.label()}</option> })
        .collect_view();
    let purpose_options = [SignPurpose::OwnUse, SignPurpose::ThirdParty]
        .into_iter()
        .map(|p| {
            view! {
                <label class="choice">
                    <input type="radio" name="purpose" value=p.code() checked=p == purpose/>
                    {p.label()}
                </label>
            }
        })
        .collect_view();
    view! {
        <input type="hidden" name="certificate_id" value=certificate_id.map(|id| id.to_string()).unwrap_or_default()/>
        <input type="hidden" name="authorisation_id" value=authorisation_id.map(|id| id.to_string()).unwrap_or_default()/>
        <FieldMessage error name="certificate"/>
        <FieldMessage error name="authorisation"/>
        <Field label="Signature content" name="content" value=content hint="2–12 Chinese characters, letters or digits; shown as 【content】." error/>
        <div class="field">
            <span class="label">"Purpose"</span>
            {purpose_options}
            <FieldMessage error name="purpose"/>
        </div>
        <div class="field">
            <label for="field-sign_type">"Signature type"</label>
            <select id="field-sign_type" name="sign_type"
                on:change=move |ev| {
                    if let Some(t) = event_target_value(&ev).parse().ok().and_then(SignType::from_code) {
                        sign_type.set(t);
                    }
                }>
                {type_options}
            </select>
            <FieldMessage error name="sign_type"/>
        </div>
        <div class="field">
            <label for="field-document_type">"Certificate type"</label>
            <select id="field-document_type" name="document_type">
                {move || {
                    sign_type
                        .get()
                        .documents()
                        .iter()
                        .map(|d: &DocumentType| view! {
                            <option value=d.code() selected=Some(*d) == chosen_document>{d.label()}</option>
                        })
                        .collect_view()
                }}
            </select>
            <FieldMessage error name="document_type"/>
        </div>
        <label class="choice">
            <input type="checkbox" name="international" checked=international/>
            "International (outside mainland China)"
        </label>
        <Field label="Remark for the reviewer" name="remark" required=false value=remark error/>
    }
}

/// A certificate shown where it is reviewed: images inline, PDFs in a frame.
#[component]
pub fn DocumentView(id: i64, format: DocumentFormat) -> impl IntoView {
    let src = format!("/documents/{id}");
    match format {
        DocumentFormat::Pdf => {
            view! { <iframe class="document" src=src title="Certificate (PDF)"></iframe> }
                .into_any()
        }
        _ => view! { <img class="document" src=src alt="Certificate"/> }.into_any(),
    }
}

fn query_id(key: &'static str) -> impl Fn() -> Option<i64> + Copy {
    let query = use_query_map();
    move || query.with(|q| q.get(key).and_then(|v| v.parse().ok()))
}

#[component]
pub fn NewSignaturePage() -> impl IntoView {
    let create = ServerAction::<CreateSignature>::new();
    let error = action_error(create);
    let certificate = query_id("certificate");
    let authorisation = query_id("authorisation");
    view! {
        <Title text="New signature"/>
        <Guard area=Area::Signatures>
            <section class="page">
                <p><A href="/signatures">"← Signatures"</A></p>
                <h1>"New signature"</h1>
                <h2>"1. Documents"</h2>
                {move || certificate().map(|id| view! {
                    <p class="alert alert-ok" role="status">
                        "Certificate uploaded: " <a href=format!("/documents/{id}") target="_blank">"view"</a>
                        {authorisation().map(|a| view! { " · authorisation letter: " <a href=format!("/documents/{a}") target="_blank">"view"</a> })}
                    </p>
                })}
                <DocumentUpload return_to="/signatures/new".to_owned()/>
                <h2>"2. Signature"</h2>
                <ActionForm action=create attr:class="form narrow">
                    <FormAlert error/>
                    {move || view! { <SignatureFields initial=None certificate_id=certificate() authorisation_id=authorisation() error/> }}
                    <button type="submit" class="primary">"Submit for review"</button>
                </ActionForm>
            </section>
        </Guard>
    }
}

#[component]
pub fn SignaturePage() -> impl IntoView {
    let id = use_id_param();
    let update = ServerAction::<UpdateSignature>::new();
    let delete = ServerAction::<DeleteSignature>::new();
    let signature = Resource::new(
        move || (id(), update.version().get()),
        |(id, _)| get_signature(id),
    );
    let error = action_error(update);
    let delete_error = action_error(delete);
    let new_certificate = query_id("certificate");
    let new_authorisation = query_id("authorisation");
    view! {
        <Title text="Signature"/>
        <Guard area=Area::Signatures>
            <section class="page">
                <p><A href="/signatures">"← Signatures"</A></p>
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            signature.await.map(|s| {
                                let editable = !matches!(s.status, ReviewStatus::Approved);
                                let reason = match &s.status {
                                    ReviewStatus::Rejected { reason } => Some(reason.clone()),
                                    _ => None,
                                };
                                let certificate_id = new_certificate().unwrap_or(s.certificate_id);
                                let authorisation_id = new_authorisation().or(s.authorisation_id);
                                let (id, for_editor) = (s.id, s.clone());
                                view! {
                                    <h1>{format!("【{}】", s.content)}</h1>
                                    <SignatureFacts signature=s.clone()/>
                                    {reason.map(|r| view! { <div class="alert alert-error" role="alert">"Rejected: " <span class="reason">{r}</span></div> })}
                                    {editable.then(|| view! {
                                        <h2>"Edit and resubmit"</h2>
                                        <p class="muted">"To replace the documents, upload new ones first."</p>
                                        <DocumentUpload return_to=format!("/signatures/{id}")/>
                                        <ActionForm action=update attr:class="form narrow">
                                            <FormAlert error/>
                                            <input type="hidden" name="id" value=id/>
                                            <SignatureFields initial=Some(for_editor) certificate_id=Some(certificate_id) authorisation_id error/>
                                            <button type="submit" class="primary">"Resubmit for review"</button>
                                        </ActionForm>
                                    })}
                                    {(!editable).then(|| view! { <p class="muted">"Approved signatures cannot be modified."</p> })}
                                    <h2>"Delete"</h2>
                                    <ActionForm action=delete attr:class="form">
                                        <FormAlert error=delete_error/>
                                        <input type="hidden" name="id" value=id/>
                                        <label class="choice"><input type="checkbox" name="confirm"/>"Yes, delete this signature"</label>
                                        <FieldMessage error=delete_error name="confirm"/>
                                        <button type="submit" class="danger">"Delete signature"</button>
                                    </ActionForm>
                                }
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
            </section>
        </Guard>
    }
}

/// Every field of a signature, with its certificate inline; the review page shows the same.
#[component]
pub fn SignatureFacts(signature: Signature) -> impl IntoView {
    let s = signature;
    view! {
        <dl class="facts">
            <dt>"Sign ID"</dt><dd><code>{s.id}</code></dd>
            <dt>"Status"</dt><dd><StatusBadge status=s.status.clone()/></dd>
            <dt>"Content"</dt><dd>{s.content.clone()}</dd>
            <dt>"Purpose"</dt><dd>{s.purpose.label()}</dd>
            <dt>"Type"</dt><dd>{s.sign_type.label()}</dd>
            <dt>"Certificate type"</dt><dd>{s.document_type.label()}</dd>
            <dt>"Region"</dt><dd>{if s.international { "International" } else { "Mainland China" }}</dd>
            <dt>"Remark"</dt><dd>{s.remark.clone()}</dd>
            <dt>"Submitted by"</dt><dd>{s.submitted_by.clone()}</dd>
            <dt>"Certificate"</dt><dd><DocumentView id=s.certificate_id format=s.certificate_format/></dd>
            {s.authorisation_id.map(|id| view! {
                <dt>"Authorisation letter"</dt>
                <dd><a href=format!("/documents/{id}") target="_blank">"open"</a></dd>
            })}
        </dl>
    }
}
