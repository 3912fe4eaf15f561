//! Sending one content to some numbers now, as a task of its own that the engine then sends:
//! `SendSms` (`tencent.rs`), verification codes and alerts all go through `service.rs`.

#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod tencent;
