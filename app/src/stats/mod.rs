//! Receipt analytics of a task, business statistics and the dashboard's figures, all read from
//! counters kept as messages are sent and receipts arrive.

pub mod api;
#[cfg(feature = "ssr")]
pub mod counters;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod tencent;
