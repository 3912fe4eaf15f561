//! Alarm contacts: the signed webhook events sent to them, and SMS alerts to their phones.

pub mod api;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod sms;
