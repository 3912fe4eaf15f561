use leptos::prelude::*;

use super::model::ReviewStatus;
use crate::i18n::{td_string, use_i18n};

/// A review status in words, with Tencent's StatusCode beside it.
#[component]
pub fn StatusBadge(status: ReviewStatus) -> impl IntoView {
    let class = match status {
        ReviewStatus::Pending => "status status-pending",
        ReviewStatus::Approved => "status status-approved",
        ReviewStatus::Rejected { .. } => "status status-rejected",
    };
    let i18n = use_i18n();
    let code = status.status_code();
    let words = move || match status {
        ReviewStatus::Pending => td_string!(i18n.get_locale(), review_status.pending),
        ReviewStatus::Approved => td_string!(i18n.get_locale(), review_status.approved),
        ReviewStatus::Rejected { .. } => td_string!(i18n.get_locale(), review_status.rejected),
    };
    view! {
        <span class=class data-status-code=code>
            {words} " " <small>{format!("({code})")}</small>
        </span>
    }
}
