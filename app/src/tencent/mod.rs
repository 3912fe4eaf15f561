//! Tencent Cloud API 3.0: the request signature, shared by the Tencent carrier (Herald calling
//! Tencent) and Herald's own Tencent-compatible API (SDKs calling Herald).

pub mod api;
pub mod tc3;
