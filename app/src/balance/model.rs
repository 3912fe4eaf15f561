use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PackageType {
    Gift,
    Purchased,
}

impl PackageType {
    /// Tencent's `PackageType`.
    pub fn code(self) -> i16 {
        match self {
            PackageType::Gift => 0,
            PackageType::Purchased => 1,
        }
    }

    pub fn from_code(code: i16) -> Option<Self> {
        match code {
            0 => Some(PackageType::Gift),
            1 => Some(PackageType::Purchased),
            _ => None,
        }
    }
}

/// One package with the fields of Tencent's `SmsPackagesStatistics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsPackage {
    pub id: i64,
    pub package_type: PackageType,
    pub amount: i64,
    pub current_usage: i64,
    pub reserved: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub effective_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub note: String,
}

impl SmsPackage {
    pub fn expired_at(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }

    /// Units still free to reserve or spend.
    pub fn available_at(&self, now: chrono::DateTime<chrono::Utc>) -> i64 {
        if self.expired_at(now) || self.effective_at > now {
            0
        } else {
            self.amount - self.current_usage - self.reserved
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceOverview {
    /// The server's clock when the figures were taken; pages judge expiry against it.
    pub as_of: chrono::DateTime<chrono::Utc>,
    pub packages: Vec<SmsPackage>,
    pub available: i64,
    pub reserved: i64,
    pub used: i64,
}

/// Units an admin adds: a whole positive number, at most a hundred million at a time.
pub fn parse_units(field: &str, raw: &str) -> Result<i64, AppError> {
    match raw.trim().replace([',', '_', ' '], "").parse::<i64>() {
        Ok(units) if (1..=100_000_000).contains(&units) => Ok(units),
        _ => Err(AppError::field(field, crate::tr!(balance.err_units))),
    }
}

/// An optional expiry date (the package lasts to the end of that day, Asia/Shanghai).
pub fn parse_expiry(
    raw: &str,
    today: chrono::NaiveDate,
) -> Result<Option<chrono::NaiveDate>, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let date = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| AppError::field("expires_on", crate::tr!(balance.err_date)))?;
    if date < today {
        return Err(AppError::field("expires_on", crate::tr!(balance.err_past)));
    }
    Ok(Some(date))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn units_are_whole_positive_and_bounded() {
        assert_eq!(parse_units("units", " 10,000 ").unwrap(), 10_000);
        for bad in ["0", "-5", "1.5", "lots", "100000001"] {
            assert!(parse_units("units", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn expiry_is_optional_and_not_in_the_past() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        assert_eq!(parse_expiry("", today).unwrap(), None);
        assert_eq!(parse_expiry("2026-11-25", today).unwrap(), Some(today));
        assert!(parse_expiry("2026-11-24", today).is_err());
        assert!(parse_expiry("25/11/2026", today).is_err());
    }

    #[test]
    fn expired_or_not_yet_effective_packages_offer_nothing() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        let package = SmsPackage {
            id: 1,
            package_type: PackageType::Purchased,
            amount: 1000,
            current_usage: 300,
            reserved: 200,
            created_at: now,
            effective_at: now - Duration::days(1),
            expires_at: Some(now + Duration::days(1)),
            note: String::new(),
        };
        assert_eq!(package.available_at(now), 500);
        assert_eq!(package.available_at(now + Duration::days(2)), 0);
        assert_eq!(package.available_at(now - Duration::days(2)), 0);
    }
}
