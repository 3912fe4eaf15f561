//! The integration tests, one binary with a module per feature: each test binary links the whole
//! server, so one link instead of a dozen.

mod accounts;
mod analytics;
mod architecture;
mod audit_and_service;
mod authorization;
mod authorization_matrix;
mod bulk;
mod chaos;
mod checked_queries;
mod common;
mod dashboard;
mod dispatch;
mod metrics;
mod review;
mod tencent_api;
mod verify;
mod webhooks;
