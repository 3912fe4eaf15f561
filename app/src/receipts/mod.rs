//! Receipts: what each code means, and each recipient's record in a task (searchable, filtered,
//! exported). Receipts are applied by `apply` and counted by `stats::counters`.

pub mod api;
#[cfg(feature = "ssr")]
pub mod apply;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod tencent;
