//! Compositions above the domains: the console's frame and the pages that join several domains,
//! and the Tencent-compatible API's action table.

pub mod dashboard;
pub mod frame;
pub mod review;
pub mod settings;
#[cfg(feature = "ssr")]
pub mod tencent;
