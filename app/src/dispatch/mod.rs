//! Sending: the engine that turns started tasks into carrier calls, the carriers, the
//! simulator, and the live progress of a task.

pub mod api;
#[cfg(feature = "ssr")]
pub mod carrier;
#[cfg(feature = "ssr")]
pub mod engine;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod send_sms;
#[cfg(feature = "ssr")]
pub mod simulator;
#[cfg(feature = "ssr")]
pub mod tencent;
