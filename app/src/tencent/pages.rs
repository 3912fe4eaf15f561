use leptos::prelude::*;
use leptos_meta::Title;

use crate::error::AppError;
use crate::forms::error_view;
use crate::i18n::{t, td_string, use_i18n};

/// The API reference (docs/api-reference.md, the same text developers read in the repository),
/// as HTML for signed-in users.
#[server(endpoint = "api_reference")]
pub async fn api_reference() -> Result<String, AppError> {
    crate::state::serve(|caller| async move {
        caller.user().await?;
        Ok(reference::html().to_owned())
    })
    .await
}

#[component]
pub fn ApiReferencePage() -> impl IntoView {
    let html = Resource::new(|| (), |_| api_reference());
    let i18n = use_i18n();
    // The reference itself is English (docs/api-reference.md); only the frame follows the console.
    view! {
        <Title text=move || td_string!(i18n.get_locale(), api_reference.title)/>
        <section class="page">
            <Transition fallback=move || view! { <p class="loading">{t!(i18n, shell.loading)}</p> }>
                <ErrorBoundary fallback=error_view>
                    {move || Suspend::new(async move {
                        // Our own document, rendered on the server: no user text in it.
                        html.await.map(|html| view! { <article class="reference" inner_html=html></article> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

#[cfg(feature = "ssr")]
mod reference {
    use std::sync::LazyLock;

    use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

    const MARKDOWN: &str = include_str!("../../../docs/api-reference.md");

    pub fn html() -> &'static str {
        static HTML: LazyLock<String> = LazyLock::new(|| render(MARKDOWN));
        &HTML
    }

    /// CommonMark with tables; headings get the ids GitHub gives them, so the document's own
    /// `#section` links work on the page as they do in the repository.
    fn render(markdown: &str) -> String {
        let mut events: Vec<Event> = Parser::new_ext(markdown, Options::ENABLE_TABLES).collect();
        let mut i = 0;
        while i < events.len() {
            if let Event::Start(Tag::Heading { id: None, .. }) = &events[i] {
                let mut text = String::new();
                for event in &events[i + 1..] {
                    match event {
                        Event::End(TagEnd::Heading(_)) => break,
                        Event::Text(t) | Event::Code(t) => text.push_str(t),
                        _ => {}
                    }
                }
                if let Event::Start(Tag::Heading { id, .. }) = &mut events[i] {
                    *id = Some(CowStr::from(slug(&text)));
                }
            }
            i += 1;
        }
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, events.into_iter());
        html
    }

    /// GitHub's anchor for a heading: lower case, spaces to hyphens, other punctuation dropped.
    fn slug(text: &str) -> String {
        text.trim()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                '-' | '_' => Some(c),
                c if c.is_alphanumeric() => Some(c.to_ascii_lowercase()),
                _ => None,
            })
            .collect()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn headings_get_githubs_anchors() {
            assert_eq!(slug("Tencent Cloud SMS API"), "tencent-cloud-sms-api");
            assert_eq!(slug("PullSmsSendStatus"), "pullsmssendstatus");
            assert_eq!(
                slug("SDK examples (Python, Node.js)"),
                "sdk-examples-python-nodejs"
            );
        }

        #[test]
        fn every_link_within_the_reference_finds_its_heading() {
            let html = html();
            assert!(html.contains("<table>"), "tables are rendered");
            let mut targets = html.split("href=\"#").skip(1).peekable();
            assert!(targets.peek().is_some());
            for target in targets {
                let anchor = &target[..target.find('"').unwrap()];
                assert!(
                    html.contains(&format!("id=\"{anchor}\"")),
                    "#{anchor} names no heading"
                );
            }
        }
    }
}
