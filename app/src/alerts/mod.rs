//! Alarm contacts and the signed webhook events sent to them.

pub mod api;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
