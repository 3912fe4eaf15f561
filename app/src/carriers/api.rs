// Server functions take each form field as an argument.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use {crate::accounts::model::Role, crate::state::serve};

use super::model::CarrierView;

#[server(endpoint = "list_carriers")]
pub async fn list_carriers() -> Result<Vec<CarrierView>, AppError> {
    serve(|caller| async move {
        // Operators choose an application's carrier, marketers a task's.
        caller
            .require_any(&[Role::Admin, Role::Marketer, Role::Operator])
            .await?;
        let admin = caller.user().await?.has(Role::Admin);
        super::repo::list_carriers(caller.pool(), admin).await
    })
    .await
}

#[server(endpoint = "add_http_carrier")]
pub async fn add_http_carrier(
    name: String,
    endpoint: String,
    secret: String,
    rate_limit: String,
    concurrency: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let carrier =
            super::model::http_carrier(&name, &endpoint, &secret, &rate_limit, &concurrency)?;
        super::repo::add_carrier(
            caller.pool(),
            &admin,
            &caller.ip,
            &caller.state.secrets,
            carrier,
        )
        .await
    })
    .await
}

#[server(endpoint = "add_tencent_carrier")]
pub async fn add_tencent_carrier(
    name: String,
    endpoint: String,
    region: String,
    secret_id: String,
    secret_key: String,
    sdk_app_id: String,
    #[server(default)] templates: String,
    reconcile_minutes: String,
    rate_limit: String,
    concurrency: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let carrier = super::model::tencent_carrier(super::model::TencentCarrierInput {
            name: &name,
            endpoint: &endpoint,
            region: &region,
            secret_id: &secret_id,
            secret_key: &secret_key,
            sdk_app_id: &sdk_app_id,
            templates: &templates,
            reconcile_minutes: &reconcile_minutes,
            rate_limit: &rate_limit,
            concurrency: &concurrency,
        })?;
        super::repo::add_carrier(
            caller.pool(),
            &admin,
            &caller.ip,
            &caller.state.secrets,
            carrier,
        )
        .await
    })
    .await
}

#[server(endpoint = "update_simulator")]
pub async fn update_simulator(
    id: i64,
    latency_ms: String,
    accept_rate: String,
    delivery_rate: String,
    transient_rate: String,
    receipt_delay_ms: String,
    rate_limit: String,
    concurrency: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let form = super::model::SimulatorForm::parse(
            &latency_ms,
            &accept_rate,
            &delivery_rate,
            &transient_rate,
            &receipt_delay_ms,
            &rate_limit,
            &concurrency,
        )?;
        super::repo::update_simulator(caller.pool(), &admin, &caller.ip, id, form).await
    })
    .await
}

#[server(endpoint = "set_default_carrier")]
pub async fn set_default_carrier(id: i64) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        super::repo::set_default_carrier(caller.pool(), &admin, &caller.ip, id).await
    })
    .await
}

/// Sets (or clears, with an empty `failover_id`) where a carrier's traffic goes after repeated
/// refusals.
#[server(endpoint = "set_carrier_failover")]
pub async fn set_carrier_failover(
    id: i64,
    #[server(default)] failover_id: String,
    failover_after: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let failover = match failover_id.trim() {
            "" => None,
            raw => Some(raw.parse::<i64>().map_err(|_| {
                AppError::field("failover_id", crate::tr!(carriers.err_choose_carrier))
            })?),
        };
        let after = failover_after
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| {
                AppError::field("failover_after", crate::tr!(carriers.err_failover_after))
            })?;
        if failover == Some(id) {
            return Err(AppError::field(
                "failover_id",
                crate::tr!(carriers.err_failover_self),
            ));
        }
        super::repo::set_failover(caller.pool(), &admin, &caller.ip, id, failover, after).await
    })
    .await
}
