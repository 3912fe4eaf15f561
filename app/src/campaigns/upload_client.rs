//! In the browser: sends the recipient file with XMLHttpRequest, whose upload events drive the
//! progress bar (fetch has none). Without JavaScript the form posts normally.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{FormData, HtmlFormElement, ProgressEvent, XmlHttpRequest};

use crate::i18n::{td_string, Locale};

#[derive(serde::Deserialize)]
struct UploadAnswer {
    upload_id: Option<i64>,
    field: Option<String>,
    message: Option<String>,
}

/// `locale` is the console's language, for the messages written here.
pub fn send(
    locale: Locale,
    ev: leptos::ev::SubmitEvent,
    set_progress: WriteSignal<Option<u32>>,
    set_error: WriteSignal<Option<(String, String)>>,
    open_report: impl Fn(i64) + 'static,
) {
    let Some(form) = ev
        .target()
        .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
    else {
        return;
    };
    let (Ok(data), Ok(xhr)) = (FormData::new_with_form(&form), XmlHttpRequest::new()) else {
        // Let the browser post the form itself.
        return;
    };
    ev.prevent_default();
    if xhr.open("POST", "/bulk/uploads").is_err() {
        return;
    }
    let _ = xhr.set_request_header("Accept", "application/json");
    set_error.set(None);
    set_progress.set(Some(0));

    let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
        if e.length_computable() && e.total() > 0.0 {
            set_progress.set(Some((e.loaded() / e.total() * 100.0) as u32));
        }
    });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    on_progress.forget();

    let request = xhr.clone();
    let on_done = Closure::<dyn FnMut()>::new(move || {
        set_progress.set(None);
        let text = request.response_text().ok().flatten().unwrap_or_default();
        match serde_json::from_str::<UploadAnswer>(&text) {
            Ok(UploadAnswer {
                upload_id: Some(id),
                ..
            }) => open_report(id),
            Ok(answer) => set_error.set(Some((
                answer.field.unwrap_or_default(),
                answer
                    .message
                    .unwrap_or_else(|| td_string!(locale, bulk.errors.upload_failed).to_owned()),
            ))),
            Err(_) if request.status().unwrap_or(0) == 413 => set_error.set(Some((
                "file".into(),
                td_string!(locale, bulk.errors.too_large).into(),
            ))),
            Err(_) => set_error.set(Some((
                String::new(),
                td_string!(locale, bulk.errors.connection).into(),
            ))),
        }
    });
    xhr.set_onloadend(Some(on_done.as_ref().unchecked_ref()));
    on_done.forget();
    if xhr.send_with_opt_form_data(Some(&data)).is_err() {
        set_progress.set(None);
    }
}

/// The browser's IANA time zone, such as `Europe/Berlin`.
pub fn time_zone() -> Option<String> {
    let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    js_sys::Reflect::get(&options, &"timeZone".into())
        .ok()
        .and_then(|z| z.as_string())
}
