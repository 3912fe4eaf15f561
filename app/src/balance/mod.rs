//! The organisation's SMS packages: prepaid units, one per billable segment.

pub mod api;
#[cfg(feature = "ssr")]
pub mod ledger;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod tencent;
