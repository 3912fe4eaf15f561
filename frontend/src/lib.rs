//! The browser half of the console: hydrates the server-rendered page.

use leptos::prelude::document;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        hand_back_to_the_browser();
    }));
    leptos::mount::hydrate_body(app::App);
    // Lets tests (and styles) tell server-rendered HTML from the live application.
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}

/// After a panic the front end is gone, but the page it leaves must not be dead: the shell's
/// script lets links and forms do what they do without JavaScript once the document is marked
/// `failed`, and the reader is told, with a way to start again.
fn hand_back_to_the_browser() {
    let document = document();
    let Some(root) = document.document_element() else {
        return;
    };
    if root.get_attribute("data-hydrated").as_deref() == Some("failed") {
        return;
    }
    let _ = root.set_attribute("data-hydrated", "failed");
    let chinese = root
        .get_attribute("lang")
        .is_some_and(|l| l.starts_with("zh"));
    let (text, again) = if chinese {
        ("页面出错，部分按钮已失效；链接和表单仍可使用。", "重新加载")
    } else {
        (
            "Something went wrong on this page; some buttons stopped working. Links and forms still work.",
            "Reload",
        )
    };
    let (Ok(notice), Ok(reload), Some(body)) = (
        document.create_element("div"),
        document.create_element("a"),
        document.body(),
    ) else {
        return;
    };
    let _ = notice.set_attribute("class", "alert alert-error page-failed");
    let _ = notice.set_attribute("role", "alert");
    notice.set_text_content(Some(text));
    let _ = reload.set_attribute("href", "");
    reload.set_text_content(Some(again));
    let _ = notice.append_child(&reload);
    let _ = body.prepend_with_node_1(&notice);
}
