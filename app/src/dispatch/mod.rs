//! Sending tasks: the queue of their messages in chunks, the engine that turns started tasks
//! into carrier calls, the recording of what came back, and each task's progress.

pub mod api;
#[cfg(feature = "ssr")]
pub mod engine;
#[cfg(feature = "ssr")]
pub mod lifecycle;
pub mod model;
#[cfg(feature = "ssr")]
pub mod queue;
#[cfg(feature = "ssr")]
pub mod recording;
#[cfg(feature = "ssr")]
pub mod slot;
