//! Applications: the unit an API caller sends through (`SmsSdkAppId`).

pub mod api;
#[cfg(feature = "ssr")]
pub mod keys;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
