//! Carriers: the kinds Herald can hand messages to (the built-in simulator, an HTTP gateway,
//! Tencent Cloud), how each is stored with its secrets sealed, and the clients that talk to them.

pub mod api;
#[cfg(feature = "ssr")]
pub mod carrier;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod simulator;
#[cfg(feature = "ssr")]
pub mod tencent;
