//! The verification-code service (the seed's login demo): `getSms` sends a 6-digit code with an
//! application's verification template, `login` checks it. Configured per application in the
//! console; reached with the application's public key, so a browser page can call it.

pub mod api;
#[cfg(feature = "ssr")]
pub mod cache;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod stream;
