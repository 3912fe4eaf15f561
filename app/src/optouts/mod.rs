//! The opt-out list: numbers that must not receive bulk messages.

pub mod api;
#[cfg(feature = "ssr")]
pub mod import;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOut {
    pub phone: String,
    pub source: String,
    pub note: String,
    pub added_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOutPage {
    pub entries: Vec<OptOut>,
    pub total: i64,
    pub has_more: bool,
}

pub const OPT_OUT_PAGE_SIZE: i64 = 100;
