//! Body templates: rules, live preview, billing segments, submission for review.

pub mod api;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
pub mod segments;
#[cfg(feature = "ssr")]
pub mod tencent;
