use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use super::api::{
    get_signature, list_signatures, CreateSignature, DeleteSignature, UpdateSignature,
};
use super::model::{
    signature_problems, DocumentFormat, DocumentType, SignPurpose, SignType, Signature,
};
use crate::accounts::frame::{Area, Guard};
use crate::error::AppError;
use crate::forms::{
    action_error, action_saves, error_until_edited, error_view, submitted_field, use_id_param,
    Field, FieldMessage, FormAlert,
};
use crate::i18n::{t, td_string, use_i18n};
use crate::review::model::ReviewStatus;
use crate::review::pages::StatusBadge;

#[component]
pub fn SignaturesPage() -> impl IntoView {
    let signatures = Resource::new(|| (), |_| list_signatures());
    let i18n = use_i18n();
    view! {
        <Title text=move || td_string!(i18n.get_locale(), signature.list_title)/>
        <Guard area=Area::Signatures>
            <section class="page">
                <div class="page-head">
                    <h1>{t!(i18n, signature.list_title)}</h1>
                    <A href="/signatures/new" attr:class="button primary">{t!(i18n, signature.create)}</A>
                </div>
                <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            signatures.await.map(|list| {
                                if list.is_empty() {
                                    return view! { <p class="empty">{t!(i18n, signature.empty)}</p> }.into_any();
                                }
                                let rows = list
                                    .into_iter()
                                    .map(|s| {
                                        let sign_type = s.sign_type;
                                        view! {
                                        <tr data-signature=s.content.clone()>
                                            <td><code>{s.id}</code></td>
                                            <td><A href=format!("/signatures/{}", s.id)>{format!("【{}】", s.content)}</A></td>
                                            <td>{move || sign_type.name(i18n.get_locale())}</td>
                                            <td><StatusBadge status=s.status.clone()/></td>
                                            <td>{s.submitted_by.clone()}</td>
                                        </tr>
                                        }
                                    })
                                    .collect_view();
                                view! {
                                    <div class="table-wrap">
                                        <table class="data">
                                            <thead><tr>
                                                <th>{t!(i18n, signature.id)}</th>
                                                <th>{t!(i18n, signature.signature)}</th>
                                                <th>{t!(i18n, signature.sign_kind)}</th>
                                                <th>{t!(i18n, signature.status)}</th>
                                                <th>{t!(i18n, signature.submitted_by)}</th>
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

/// Step one: the documents, posted as a plain multipart form (it works without JavaScript and
/// comes back to `return_to` with the stored ids, or with the reason they were refused).
#[component]
fn DocumentUpload(return_to: String) -> impl IntoView {
    let query = use_query_map();
    let i18n = use_i18n();
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
                <label for="certificate">{t!(i18n, signature.certificate_file)}</label>
                <input id="certificate" type="file" name="certificate" accept="image/png,image/jpeg,application/pdf" required/>
                {move || upload_error("certificate").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </div>
            <div class="field">
                <label for="authorisation">{t!(i18n, signature.authorisation_file)}</label>
                <input id="authorisation" type="file" name="authorisation" accept="image/png,image/jpeg,application/pdf"/>
                {move || upload_error("authorisation").map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </div>
            <button type="submit">{t!(i18n, signature.upload)}</button>
        </form>
    }
}

/// The signature content with what is wrong with it: the server's refusal until the operator
/// edits the text, then the same rules checked as they type.
#[component]
fn ContentField(
    initial: String,
    error: Signal<Option<AppError>>,
    submitted: Signal<Option<String>>,
) -> impl IntoView {
    let content = RwSignal::new(initial);
    let refusal = error_until_edited(error, submitted, content.into());
    let i18n = use_i18n();
    let refused = move || {
        refusal.with(|e| {
            e.as_ref()
                .and_then(|e| e.field_message("content"))
                .is_some()
        })
    };
    // An empty field is only "required", which the browser and the server already say.
    let problems = Memo::new(move |_| {
        content.with(|c| {
            if c.trim().is_empty() {
                Vec::new()
            } else {
                signature_problems(i18n.get_locale(), c)
            }
        })
    });
    let live_problems = move || {
        if refused() {
            Vec::new()
        } else {
            problems.get()
        }
    };
    let invalid = move || refused() || !problems.with(Vec::is_empty);
    view! {
        <div class="field" class:has-error=invalid>
            <label for="field-content">{t!(i18n, signature.content_label)}</label>
            <input id="field-content" name="content" type="text" required
                value=content.get_untracked()
                aria-invalid=move || invalid().then_some("true")
                on:input=move |ev| content.set(event_target_value(&ev))/>
            <p class="hint">{t!(i18n, signature.content_hint)}</p>
            <FieldMessage error=refusal name="content"/>
            <ul class="problems" aria-live="polite">
                {move || live_problems().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
            </ul>
        </div>
    }
}

/// The signature's own fields; the certificate types offered follow the chosen signature type.
#[component]
fn SignatureFields(
    initial: Option<Signature>,
    certificate_id: Option<i64>,
    authorisation_id: Option<i64>,
    error: Signal<Option<AppError>>,
    /// The content last submitted, to drop its refusal once the operator changes it.
    submitted_content: Signal<Option<String>>,
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
    let i18n = use_i18n();
    let type_options = SignType::ALL
        .into_iter()
        .map(|t| view! { <option value=t.code() selected=t == sign_type.get_untracked()>{move || t.name(i18n.get_locale())}</option> })
        .collect_view();
    let purpose_options = [SignPurpose::OwnUse, SignPurpose::ThirdParty]
        .into_iter()
        .map(|p| {
            view! {
                <label class="choice">
                    <input type="radio" name="purpose" value=p.code() checked=p == purpose/>
                    {move || p.name(i18n.get_locale())}
                </label>
            }
        })
        .collect_view();
    view! {
        <input type="hidden" name="certificate_id" value=certificate_id.map(|id| id.to_string()).unwrap_or_default()/>
        <input type="hidden" name="authorisation_id" value=authorisation_id.map(|id| id.to_string()).unwrap_or_default()/>
        <FieldMessage error name="certificate"/>
        <FieldMessage error name="authorisation"/>
        <ContentField initial=content error submitted=submitted_content/>
        <div class="field">
            <span class="label">{t!(i18n, signature.purpose)}</span>
            {purpose_options}
            <FieldMessage error name="purpose"/>
        </div>
        <div class="field">
            <label for="field-sign_type">{t!(i18n, signature.sign_type)}</label>
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
            <label for="field-document_type">{t!(i18n, signature.document_type)}</label>
            <select id="field-document_type" name="document_type">
                {move || {
                    sign_type
                        .get()
                        .documents()
                        .iter()
                        .map(|d: &DocumentType| {
                            let d = *d;
                            view! {
                                <option value=d.code() selected=Some(d) == chosen_document>{move || d.name(i18n.get_locale())}</option>
                            }
                        })
                        .collect_view()
                }}
            </select>
            <FieldMessage error name="document_type"/>
        </div>
        <label class="choice">
            <input type="checkbox" name="international" checked=international/>
            {t!(i18n, signature.international_choice)}
        </label>
        <Field label=move || td_string!(i18n.get_locale(), signature.remark_for_reviewer) name="remark" required=false value=remark error/>
    }
}

/// A certificate shown where it is reviewed: images inline, PDFs in a frame.
#[component]
pub fn DocumentView(id: i64, format: DocumentFormat) -> impl IntoView {
    let src = format!("/documents/{id}");
    let i18n = use_i18n();
    match format {
        DocumentFormat::Pdf => view! {
            <iframe class="document" src=src
                title=move || td_string!(i18n.get_locale(), signature.certificate_pdf)></iframe>
        }
        .into_any(),
        _ => view! {
            <img class="document" src=src alt=move || td_string!(i18n.get_locale(), signature.certificate)/>
        }
        .into_any(),
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
    let submitted_content =
        submitted_field(create, |input: &CreateSignature| input.content.clone());
    let certificate = query_id("certificate");
    let authorisation = query_id("authorisation");
    let i18n = use_i18n();
    view! {
        <Title text=move || td_string!(i18n.get_locale(), signature.create)/>
        <Guard area=Area::Signatures>
            <section class="page">
                <p><A href="/signatures">{t!(i18n, signature.back)}</A></p>
                <h1>{t!(i18n, signature.create)}</h1>
                <h2>{t!(i18n, signature.step_documents)}</h2>
                {move || certificate().map(|id| view! {
                    <p class="alert alert-ok" role="status">
                        {t!(i18n, signature.certificate_uploaded)} <a href=format!("/documents/{id}") target="_blank">{t!(i18n, signature.view)}</a>
                        {authorisation().map(|a| view! {
                            {t!(i18n, signature.authorisation_uploaded)}
                            <a href=format!("/documents/{a}") target="_blank">{t!(i18n, signature.view)}</a>
                        })}
                    </p>
                })}
                <DocumentUpload return_to="/signatures/new".to_owned()/>
                <h2>{t!(i18n, signature.step_signature)}</h2>
                <ActionForm action=create attr:class="form narrow">
                    <FormAlert error/>
                    {move || view! { <SignatureFields initial=None certificate_id=certificate() authorisation_id=authorisation() error submitted_content/> }}
                    <button type="submit" class="primary">{t!(i18n, signature.submit)}</button>
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
    let saves = action_saves(update);
    let signature = Resource::new(move || (id(), saves.get()), |(id, _)| get_signature(id));
    let error = action_error(update);
    let submitted_content =
        submitted_field(update, |input: &UpdateSignature| input.content.clone());
    let delete_error = action_error(delete);
    let new_certificate = query_id("certificate");
    let new_authorisation = query_id("authorisation");
    let i18n = use_i18n();
    view! {
        <Title text=move || td_string!(i18n.get_locale(), signature.detail_title)/>
        <Guard area=Area::Signatures>
            <section class="page">
                <p><A href="/signatures">{t!(i18n, signature.back)}</A></p>
                <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
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
                                    {reason.map(|r| view! { <div class="alert alert-error" role="alert">{t!(i18n, signature.rejected)} <span class="reason">{r}</span></div> })}
                                    {editable.then(|| view! {
                                        <h2>{t!(i18n, signature.edit_heading)}</h2>
                                        <p class="muted">{t!(i18n, signature.replace_documents)}</p>
                                        <DocumentUpload return_to=format!("/signatures/{id}")/>
                                        <ActionForm action=update attr:class="form narrow">
                                            <FormAlert error/>
                                            <input type="hidden" name="id" value=id/>
                                            <SignatureFields initial=Some(for_editor) certificate_id=Some(certificate_id) authorisation_id error submitted_content/>
                                            <button type="submit" class="primary">{t!(i18n, signature.resubmit)}</button>
                                        </ActionForm>
                                    })}
                                    {(!editable).then(|| view! { <p class="muted">{t!(i18n, signature.approved_frozen)}</p> })}
                                    <h2>{t!(i18n, signature.delete_heading)}</h2>
                                    <ActionForm action=delete attr:class="form">
                                        <FormAlert error=delete_error/>
                                        <input type="hidden" name="id" value=id/>
                                        <label class="choice"><input type="checkbox" name="confirm"/>{t!(i18n, signature.delete_confirm)}</label>
                                        <FieldMessage error=delete_error name="confirm"/>
                                        <button type="submit" class="danger">{t!(i18n, signature.delete)}</button>
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
    let i18n = use_i18n();
    let (purpose, sign_type, document_type, international) =
        (s.purpose, s.sign_type, s.document_type, s.international);
    view! {
        <dl class="facts">
            <dt>{t!(i18n, signature.sign_id)}</dt><dd><code>{s.id}</code></dd>
            <dt>{t!(i18n, signature.status)}</dt><dd><StatusBadge status=s.status.clone()/></dd>
            <dt>{t!(i18n, signature.content)}</dt><dd>{s.content.clone()}</dd>
            <dt>{t!(i18n, signature.purpose)}</dt><dd>{move || purpose.name(i18n.get_locale())}</dd>
            <dt>{t!(i18n, signature.sign_kind)}</dt><dd>{move || sign_type.name(i18n.get_locale())}</dd>
            <dt>{t!(i18n, signature.document_type)}</dt><dd>{move || document_type.name(i18n.get_locale())}</dd>
            <dt>{t!(i18n, signature.region)}</dt>
            <dd>{move || if international {
                td_string!(i18n.get_locale(), signature.international)
            } else {
                td_string!(i18n.get_locale(), signature.mainland)
            }}</dd>
            <dt>{t!(i18n, signature.remark)}</dt><dd>{s.remark.clone()}</dd>
            <dt>{t!(i18n, signature.submitted_by)}</dt><dd>{s.submitted_by.clone()}</dd>
            <dt>{t!(i18n, signature.certificate)}</dt><dd><DocumentView id=s.certificate_id format=s.certificate_format/></dd>
            {s.authorisation_id.map(|id| view! {
                <dt>{t!(i18n, signature.authorisation)}</dt>
                <dd><a href=format!("/documents/{id}") target="_blank">{t!(i18n, signature.open)}</a></dd>
            })}
        </dl>
    }
}
