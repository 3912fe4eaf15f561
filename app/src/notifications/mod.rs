//! In-console notifications: the bell and its list.

pub mod api;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
