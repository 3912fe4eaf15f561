use leptos::prelude::*;

use super::model::BalanceOverview;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use {
    super::model::{parse_expiry, parse_units, PackageType},
    super::repo,
    crate::accounts::model::Role,
    crate::apps::model::optional_text,
    crate::audit::repo::{record, AuditEvent},
    crate::error::FieldErrors,
    crate::state::serve,
    serde_json::json,
};

/// Mainland China has one offset all year; package expiry follows its calendar days.
#[cfg(feature = "ssr")]
fn shanghai() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

#[server(endpoint = "get_balance")]
pub async fn get_balance() -> Result<BalanceOverview, AppError> {
    serve(|caller| async move {
        caller.require(Role::Admin).await?;
        let packages = repo::list(caller.pool()).await?;
        let now = chrono::Utc::now();
        Ok(BalanceOverview {
            as_of: now,
            available: packages.iter().map(|p| p.available_at(now)).sum(),
            reserved: packages
                .iter()
                .filter(|p| !p.expired_at(now))
                .map(|p| p.reserved)
                .sum(),
            used: packages.iter().map(|p| p.current_usage).sum(),
            packages,
        })
    })
    .await
}

#[server(endpoint = "add_sms_package")]
pub async fn add_sms_package(
    units: String,
    package_type: String,
    expires_on: String,
    note: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let today = chrono::Utc::now().with_timezone(&shanghai()).date_naive();
        let mut errors = FieldErrors::default();
        let units = errors.check(parse_units("units", &units));
        let package_type = errors.check(
            package_type
                .parse()
                .ok()
                .and_then(PackageType::from_code)
                .ok_or_else(|| AppError::field("package_type", crate::tr!(balance.err_package_type))),
        );
        let expires_on = errors.check(parse_expiry(&expires_on, today));
        let note = errors.check(optional_text("note", &note, 200));
        let (units, package_type, expires_on, note) =
            errors.finish((|| Some((units?, package_type?, expires_on?, note?)))())?;
        // A package lasts to the end of its expiry day in Asia/Shanghai.
        let expires_at = expires_on
            .and_then(|day| day.succ_opt())
            .and_then(|next| next.and_hms_opt(0, 0, 0))
            .and_then(|midnight| midnight.and_local_timezone(shanghai()).single())
            .map(|t| t.with_timezone(&chrono::Utc));
        let mut tx = caller.pool().begin().await?;
        let id = repo::add(&mut tx, units, package_type, expires_at, &note, admin.id).await?;
        let details = json!({ "units": units, "package_type": package_type.code(), "expires_at": expires_at });
        record(&mut *tx, AuditEvent::by(&admin, &caller.ip, "balance.add_package", "sms_package", id, details)).await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}
