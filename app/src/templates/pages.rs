use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::api::{
    get_template, get_unsubscribe_phrases, list_templates, template_editor_data, CreateTemplate,
    DeleteTemplate, UpdateTemplate, UpdateUnsubscribePhrases,
};
use super::model::{
    content_problems, placeholder_count, render_preview, ContentPolicy, SmsType, Template,
};
use super::segments::{segments, with_signature, Encoding};
use crate::accounts::frame::{Area, Guard};
use crate::error::AppError;
use crate::forms::{
    action_error, action_saves, action_succeeded, error_until_edited, error_view, submitted_field,
    use_id_param, Field, FieldMessage, FormAlert,
};
use crate::i18n::{t, td_string, use_i18n, Locale};
use crate::review::model::ReviewStatus;
use crate::review::pages::StatusBadge;

/// An SMS type in the console's language.
pub fn sms_type_name(locale: Locale, sms_type: SmsType) -> &'static str {
    match sms_type {
        SmsType::Marketing => td_string!(locale, sms_type.marketing),
        SmsType::Notification => td_string!(locale, sms_type.notification),
        SmsType::Verification => td_string!(locale, sms_type.verification),
    }
}

#[component]
pub fn TemplatesPage() -> impl IntoView {
    let templates = Resource::new(|| (), |_| list_templates());
    let i18n = use_i18n();
    view! {
        <Title text=move || td_string!(i18n.get_locale(), template.list_title)/>
        <Guard area=Area::Templates>
            <section class="page">
                <div class="page-head">
                    <h1>{t!(i18n, template.list_title)}</h1>
                    <A href="/templates/new" attr:class="button primary">{t!(i18n, template.create)}</A>
                </div>
                <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            templates.await.map(|list| {
                                if list.is_empty() {
                                    return view! { <p class="empty">{t!(i18n, template.empty)}</p> }.into_any();
                                }
                                let rows = list
                                    .into_iter()
                                    .map(|t| {
                                        let name = t.name.clone();
                                        let sms_type = t.sms_type;
                                        view! {
                                        <tr data-template=name>
                                            <td><code>{t.id}</code></td>
                                            <td><A href=format!("/templates/{}", t.id)>{t.name.clone()}</A></td>
                                            <td>{move || sms_type_name(i18n.get_locale(), sms_type)}</td>
                                            <td class="clip">{t.content.clone()}</td>
                                            <td><StatusBadge status=t.status.clone()/></td>
                                            <td>{t.submitted_by.clone()}</td>
                                        </tr>
                                        }
                                    })
                                    .collect_view();
                                view! {
                                    <div class="table-wrap">
                                        <table class="data">
                                            <thead><tr>
                                                <th>{t!(i18n, template.id)}</th>
                                                <th>{t!(i18n, template.name)}</th>
                                                <th>{t!(i18n, template.sms_kind)}</th>
                                                <th>{t!(i18n, template.content)}</th>
                                                <th>{t!(i18n, template.status)}</th>
                                                <th>{t!(i18n, template.submitted_by)}</th>
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

/// The template form with its live preview: rendered SMS, length, billable segments and every
/// broken rule, computed in the browser by the same code the server checks with.
#[component]
fn TemplateFields(
    initial: Option<Template>,
    policy: ContentPolicy,
    /// Approved signatures, to preview with.
    signatures: Vec<String>,
    error: Signal<Option<AppError>>,
    /// The content last submitted, to drop its refusal once the operator changes it.
    submitted_content: Signal<Option<String>>,
) -> impl IntoView {
    let content = RwSignal::new(
        initial
            .as_ref()
            .map(|t| t.content.clone())
            .unwrap_or_default(),
    );
    let sms_type = RwSignal::new(
        initial
            .as_ref()
            .map(|t| t.sms_type)
            .unwrap_or(SmsType::Notification),
    );
    let i18n = use_i18n();
    let content_error = error_until_edited(error, submitted_content, content.into());
    let none_approved = signatures.is_empty();
    let signature = RwSignal::new(signatures.first().cloned().unwrap_or_default());
    let samples = RwSignal::new(Vec::<String>::new());
    let policy = StoredValue::new(policy);

    let fields = placeholder_count;
    let message = Memo::new(move |_| {
        with_signature(
            &signature.get(),
            &render_preview(&content.get(), &samples.get()),
        )
    });
    let counted = Memo::new(move |_| segments(&message.get()));
    let problems = Memo::new(move |_| {
        policy
            .with_value(|p| content_problems(i18n.get_locale(), &content.get(), sms_type.get(), p))
    });

    let name = initial.as_ref().map(|t| t.name.clone()).unwrap_or_default();
    let remark = initial
        .as_ref()
        .map(|t| t.remark.clone())
        .unwrap_or_default();
    let international = initial.as_ref().is_some_and(|t| t.international);
    let initial_content = content.get_untracked();
    let type_options = SmsType::ALL
        .into_iter()
        .map(|t| {
            let selected = t == sms_type.get_untracked();
            view! { <option value=t.code() selected=selected>{move || sms_type_name(i18n.get_locale(), t)}</option> }
        })
        .collect_view();
    let signature_options = signatures
        .into_iter()
        .map(|s| view! { <option value=s/> })
        .collect_view();

    view! {
        <div class="editor">
            <div class="editor-fields">
                <Field label=move || td_string!(i18n.get_locale(), template.name) name="name" value=name error/>
                <div class="field">
                    <label for="field-sms_type">{t!(i18n, template.sms_type)}</label>
                    <select id="field-sms_type" name="sms_type"
                        on:change=move |ev| {
                            if let Some(t) = event_target_value(&ev).parse().ok().and_then(SmsType::from_code) {
                                sms_type.set(t);
                            }
                        }>
                        {type_options}
                    </select>
                    <FieldMessage error name="sms_type"/>
                </div>
                <div class="field">
                    <label for="field-content">{t!(i18n, template.content)}</label>
                    <textarea id="field-content" name="content" rows="5" required
                        on:input=move |ev| content.set(event_target_value(&ev))>
                        {initial_content}
                    </textarea>
                    <p class="hint">{t!(i18n, template.content_hint)}</p>
                    <FieldMessage error=content_error name="content"/>
                </div>
                <label class="choice">
                    <input type="checkbox" name="international" checked=international/>
                    {t!(i18n, template.international_choice)}
                </label>
                <Field label=move || td_string!(i18n.get_locale(), template.remark_for_reviewer) name="remark" required=false value=remark error/>
            </div>
            <aside class="preview" aria-label=move || td_string!(i18n.get_locale(), template.preview)>
                <h2>{t!(i18n, template.preview)}</h2>
                // Only for the preview: it has no name, so the form does not send it.
                <div class="inline-label">
                    <label for="preview-signature">{t!(i18n, template.signature)}</label>
                    <input id="preview-signature" type="text" autocomplete="off"
                        list=(!none_approved).then_some("approved-signatures")
                        value=signature.get_untracked()
                        on:input=move |ev| signature.set(event_target_value(&ev))/>
                </div>
                <datalist id="approved-signatures">{signature_options}</datalist>
                <p class="hint">{move || if none_approved {
                    td_string!(i18n.get_locale(), template.no_approved_signature)
                } else {
                    td_string!(i18n.get_locale(), template.preview_signature_hint)
                }}</p>
                <div class="samples">
                    {move || {
                        (1..=fields(&content.get()))
                            .map(|n| view! {
                                <label class="inline-label">{format!("{{{n}}} ")}
                                    <input type="text" class="sample" placeholder=move || td_string!(i18n.get_locale(), template.value_n, n)
                                        prop:value=move || samples.with(|s| s.get(n - 1).cloned().unwrap_or_default())
                                        on:input=move |ev| samples.update(|s| {
                                            if s.len() < n { s.resize(n, String::new()); }
                                            s[n - 1] = event_target_value(&ev);
                                        })/>
                                </label>
                            })
                            .collect_view()
                    }}
                </div>
                <div class="sms-bubble">{move || message.get()}</div>
                <p class="counts">
                    <span class="chars">{t!(i18n, template.characters, n = move || counted.get().billed_chars)}</span>
                    " · "
                    <span class="segments" data-segments=move || counted.get().parts>
                        {t!(i18n, template.billable, n = move || counted.get().parts)}
                    </span>
                    " · "
                    <span class="muted">{move || match counted.get().encoding {
                        Encoding::Ucs2 => td_string!(i18n.get_locale(), template.ucs2),
                        Encoding::Gsm7 => td_string!(i18n.get_locale(), template.gsm7),
                    }}</span>
                </p>
                {move || {
                    let found = problems.get();
                    if found.is_empty() {
                        view! { <p class="rules-ok">{t!(i18n, template.meets_rules)}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="problems">
                                {found.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                            </ul>
                        }
                        .into_any()
                    }
                }}
            </aside>
        </div>
    }
}

#[component]
pub fn NewTemplatePage() -> impl IntoView {
    let create = ServerAction::<CreateTemplate>::new();
    let data = Resource::new(|| (), |_| template_editor_data());
    let error = action_error(create);
    let submitted_content = submitted_field(create, |input: &CreateTemplate| input.content.clone());
    let i18n = use_i18n();
    view! {
        <Title text=move || td_string!(i18n.get_locale(), template.create)/>
        <Guard area=Area::Templates>
            <section class="page">
                <p><A href="/templates">{t!(i18n, template.back)}</A></p>
                <h1>{t!(i18n, template.create)}</h1>
                <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            data.await.map(|(policy, signatures)| view! {
                                <ActionForm action=create attr:class="form">
                                    <FormAlert error/>
                                    <TemplateFields initial=None policy signatures error submitted_content/>
                                    <button type="submit" class="primary">{t!(i18n, template.submit)}</button>
                                </ActionForm>
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
            </section>
        </Guard>
    }
}

#[component]
pub fn TemplatePage() -> impl IntoView {
    let id = use_id_param();
    let update = ServerAction::<UpdateTemplate>::new();
    let delete = ServerAction::<DeleteTemplate>::new();
    let saves = action_saves(update);
    let template = Resource::new(move || (id(), saves.get()), |(id, _)| get_template(id));
    let editor = Resource::new(|| (), |_| template_editor_data());
    let error = action_error(update);
    let submitted_content = submitted_field(update, |input: &UpdateTemplate| input.content.clone());
    let delete_error = action_error(delete);
    let i18n = use_i18n();
    view! {
        <Title text=move || td_string!(i18n.get_locale(), template.detail_title)/>
        <Guard area=Area::Templates>
            <section class="page">
                <p><A href="/templates">{t!(i18n, template.back)}</A></p>
                <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            let (t, (policy, signatures)) = (template.await?, editor.await?);
                            let editable = !matches!(t.status, ReviewStatus::Approved);
                            let reason = match &t.status {
                                ReviewStatus::Rejected { reason } => Some(reason.clone()),
                                _ => None,
                            };
                            let (id, for_editor) = (t.id, t.clone());
                            let sms_type = t.sms_type;
                            Ok::<_, AppError>(view! {
                                <h1>{t.name.clone()}</h1>
                                <dl class="facts">
                                    <dt>{t!(i18n, template.template_id)}</dt><dd><code>{t.id}</code></dd>
                                    <dt>{t!(i18n, template.status)}</dt><dd><StatusBadge status=t.status.clone()/></dd>
                                    <dt>{t!(i18n, template.sms_kind)}</dt><dd>{move || sms_type_name(i18n.get_locale(), sms_type)}</dd>
                                    <dt>{t!(i18n, template.content)}</dt><dd class="content-text">{t.content.clone()}</dd>
                                    <dt>{t!(i18n, template.submitted_by)}</dt><dd>{t.submitted_by.clone()}</dd>
                                </dl>
                                {reason.map(|r| view! {
                                    <div class="alert alert-error" role="alert">{t!(i18n, template.rejected)} <span class="reason">{r}</span></div>
                                })}
                                {editable.then(|| view! {
                                    <h2>{t!(i18n, template.edit_heading)}</h2>
                                    <ActionForm action=update attr:class="form">
                                        <FormAlert error succeeded=action_succeeded(update)
                                            success_text=move || td_string!(i18n.get_locale(), template.resubmitted)/>
                                        <input type="hidden" name="id" value=id/>
                                        <TemplateFields initial=Some(for_editor) policy signatures error submitted_content/>
                                        <button type="submit" class="primary">{t!(i18n, template.resubmit)}</button>
                                    </ActionForm>
                                })}
                                {(!editable).then(|| view! { <p class="muted">{t!(i18n, template.approved_frozen)}</p> })}
                                <h2>{t!(i18n, template.delete_heading)}</h2>
                                <ActionForm action=delete attr:class="form inline-danger">
                                    <FormAlert error=delete_error/>
                                    <input type="hidden" name="id" value=id/>
                                    <label class="choice">
                                        <input type="checkbox" name="confirm"/>
                                        {t!(i18n, template.delete_confirm)}
                                    </label>
                                    <FieldMessage error=delete_error name="confirm"/>
                                    <button type="submit" class="danger">{t!(i18n, template.delete)}</button>
                                </ActionForm>
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
            </section>
        </Guard>
    }
}

/// Settings section: the phrases that may end a marketing template.
#[component]
pub fn UnsubscribePhrasesSection() -> impl IntoView {
    let update = ServerAction::<UpdateUnsubscribePhrases>::new();
    let phrases = Resource::new(
        move || update.version().get(),
        |_| get_unsubscribe_phrases(),
    );
    let error = action_error(update);
    let i18n = use_i18n();
    view! {
        <h2>{t!(i18n, template.unsubscribe_heading)}</h2>
        <Transition fallback=|| ()>
            <ErrorBoundary fallback=error_view>
                {move || Suspend::new(async move {
                    phrases.await.map(|list| view! {
                        <ActionForm action=update attr:class="form narrow">
                            <FormAlert error succeeded=action_succeeded(update)
                                success_text=move || td_string!(i18n.get_locale(), template.saved)/>
                            <div class="field">
                                <label for="field-phrases">{t!(i18n, template.phrases_label)}</label>
                                <textarea id="field-phrases" name="phrases" rows="4">{list.join("\n")}</textarea>
                                <FieldMessage error name="phrases"/>
                            </div>
                            <button type="submit" class="primary">{t!(i18n, template.save_phrases)}</button>
                        </ActionForm>
                    })
                })}
            </ErrorBoundary>
        </Transition>
    }
}
