//! Form pieces shared by every page: field errors next to their fields, a form-level alert.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::error::AppError;
use crate::i18n::use_i18n;

/// The error of an action's last run, if it failed.
pub fn action_error<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

/// Whether the action's last run succeeded.
pub fn action_succeeded<S>(action: ServerAction<S>) -> Signal<bool>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || matches!(action.value().get(), Some(Ok(_))))
}

/// The action's run count as of its latest success. A resource keyed on it reloads after a save
/// but not after a refusal, which would rebuild the form and throw away what the user typed.
pub fn action_saves<S>(action: ServerAction<S>) -> Memo<usize>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Memo::new(move |last: Option<&usize>| {
        if action.value().with(|v| matches!(v, Some(Ok(_)))) {
            action.version().get()
        } else {
            last.copied().unwrap_or_default()
        }
    })
}

/// One field's value as the action was last dispatched with it. The action forgets its input
/// once it resolves; this keeps it, to tell whether the user has changed the field since.
pub fn submitted_field<S>(
    action: ServerAction<S>,
    field: impl Fn(&S) -> String + 'static,
) -> Signal<Option<String>>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let submitted = RwSignal::new(None);
    Effect::new(move |_| {
        if let Some(value) = action.input().with(|input| input.as_ref().map(&field)) {
            submitted.set(Some(value));
        }
    });
    submitted.into()
}

/// `error` while the field still holds the value that was submitted; once the user edits it the
/// message is about text no longer there, so it goes. Give it to that field's message only (it
/// hides the whole error).
pub fn error_until_edited(
    error: Signal<Option<AppError>>,
    submitted: Signal<Option<String>>,
    current: Signal<String>,
) -> Signal<Option<AppError>> {
    // A form posted before hydration comes back as a fresh page, its field showing the value it
    // was rendered with; the submitted one is unknown.
    let rendered = current.get_untracked();
    Signal::derive(move || {
        let edited =
            submitted.with(|s| current.with(|c| s.as_deref().unwrap_or(&rendered) != c.as_str()));
        error.get().filter(|_| !edited)
    })
}

/// A labelled input with its own error message underneath.
#[component]
pub fn Field(
    /// Plain text, or a closure for text that follows the console's language.
    #[prop(into)]
    label: TextProp,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional, into)] value: Option<String>,
    #[prop(optional, into)] hint: Option<TextProp>,
    #[prop(default = true)] required: bool,
    /// Names the form, for pages with several forms asking for the same field: ids stay unique
    /// and each label finds its own input.
    #[prop(optional, into)]
    form: Option<String>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let message = move || error.get().and_then(|e| e.field_message(name));
    let id = match form {
        Some(form) => format!("field-{form}-{name}"),
        None => format!("field-{name}"),
    };
    view! {
        <div class="field" class:has-error=move || message().is_some()>
            <label for=id.clone()>{move || label.get()}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                value=value
                required=required
                aria-invalid=move || message().is_some().then_some("true")
            />
            {hint.map(|h| view! { <p class="hint">{move || h.get()}</p> })}
            <FieldMessage error name/>
        </div>
    }
}

/// The message for one field, for inputs laid out by hand (checkbox groups, selects).
#[component]
pub fn FieldMessage(error: Signal<Option<AppError>>, name: &'static str) -> impl IntoView {
    move || {
        error
            .get()
            .and_then(|e| e.field_message(name))
            .map(|m| view! { <p class="field-error" role="alert">{m}</p> })
    }
}

/// The form-level message: what went wrong, or that it worked.
#[component]
pub fn FormAlert(
    error: Signal<Option<AppError>>,
    #[prop(optional, into)] succeeded: Option<Signal<bool>>,
    /// Shown once `succeeded` turns true.
    #[prop(optional, into)]
    success_text: Option<TextProp>,
) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        if let Some(err) = error.get() {
            Some(
                view! { <p class="alert alert-error" role="alert">{err.message(i18n.get_locale())}</p> }
                    .into_any(),
            )
        } else {
            let text = success_text.clone()?;
            succeeded.filter(|done| done.get()).map(|_| {
                view! { <p class="alert alert-ok" role="status">{move || text.get()}</p> }
                    .into_any()
            })
        }
    }
}

/// Text for a table cell that may be empty: a dash says "nothing here" where a blank looks broken.
pub fn or_dash(text: String) -> String {
    if text.trim().is_empty() {
        "—".to_owned()
    } else {
        text
    }
}

/// Percent-encodes a value for a URL query string (everything but RFC 3986 unreserved bytes).
pub fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The numeric `:id` of the current route; a malformed one reads as 0, which no row has, so the
/// page shows "not found".
pub fn use_id_param() -> impl Fn() -> i64 + Copy + Send + Sync + 'static {
    let params = leptos_router::hooks::use_params_map();
    move || {
        params.with(|p| {
            p.get("id")
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or_default()
        })
    }
}

/// How a failed page load reads to the user.
pub fn error_view(errors: ArcRwSignal<leptos::error::Errors>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="alert alert-error" role="alert">
            <ul>
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, e)| {
                            let text = match e.downcast_ref::<AppError>() {
                                Some(err) => err.message(i18n.get_locale()),
                                None => e.to_string(),
                            };
                            view! { <li>{text}</li> }
                        })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}

/// Asks for one more reading after `millis`, in the browser. At most one is ever pending: a view
/// that renders twice must not leave a second refresh behind, which would re-render (and reset)
/// a form the user is filling in after the polling stopped.
pub fn poll_again(pending: StoredValue<bool>, set_tick: WriteSignal<u32>, millis: u64) {
    #[cfg(feature = "hydrate")]
    if !pending.get_value() {
        pending.set_value(true);
        set_timeout(
            move || {
                pending.set_value(false);
                set_tick.update(|t| *t += 1);
            },
            std::time::Duration::from_millis(millis),
        );
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (pending, set_tick, millis);
}
