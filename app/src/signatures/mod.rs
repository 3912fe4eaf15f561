//! SMS signatures: names, types, certificates and submission for review.

pub mod api;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod tencent;
#[cfg(feature = "ssr")]
pub mod upload;
