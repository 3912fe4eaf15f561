//! Tencent Cloud API 3.0: the request signature, shared by the Tencent carrier (Herald calling
//! Tencent) and Herald's own Tencent-compatible API (SDKs calling Herald), and the API's
//! reference page.

#[cfg(feature = "ssr")]
pub mod api;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod tc3;
