//! Bulk SMS tasks: the recipient upload and its validation report, the fee and its reservation,
//! scheduling, and Delivery Records.

pub mod api;
#[cfg(feature = "ssr")]
pub mod import;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod repo;
#[cfg(feature = "ssr")]
pub mod rules;
#[cfg(feature = "ssr")]
pub mod schedule;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod standard;
#[cfg(feature = "hydrate")]
mod upload_client;
