//! Users, roles, sessions and the organisation they belong to.

pub mod api;
pub mod frame;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod session;
pub mod settings;
