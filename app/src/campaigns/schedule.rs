//! When a task may be sent: now or at a second in the creator's zone, at most 30 days ahead, and
//! marketing only inside the organisation's window (China time).

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::{Asia::Shanghai, Tz};

use super::model::MarketingWindow;
use crate::error::AppError;

pub const MAX_DAYS_AHEAD: i64 = 30;

/// The moment a task is due, and the zone it was entered in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendTime {
    pub at: DateTime<Utc>,
    pub zone: Tz,
    pub now: bool,
}

pub fn parse_zone(raw: &str) -> Result<Tz, AppError> {
    raw.trim()
        .parse::<Tz>()
        .map_err(|_| AppError::field("time_zone", crate::tr!(bulk.errors.choose_zone)))
}

/// Reads the form's choice: `mode` is `now` or `schedule`; `local` is what a
/// `datetime-local` input sends (`2026-12-01T10:00:00`, seconds optional).
pub fn parse_send_time(
    mode: &str,
    local: &str,
    zone: &str,
    now: DateTime<Utc>,
    marketing: Option<MarketingWindow>,
) -> Result<SendTime, AppError> {
    let zone = parse_zone(zone)?;
    let send = match mode {
        "now" => SendTime {
            at: now,
            zone,
            now: true,
        },
        "schedule" => {
            let at = local_time(local, zone)?;
            if at <= now {
                return Err(AppError::field(
                    "send_at",
                    crate::tr!(bulk.errors.future_time),
                ));
            }
            if at > now + Duration::days(MAX_DAYS_AHEAD) {
                return Err(AppError::field(
                    "send_at",
                    crate::tr!(bulk.errors.too_far_ahead, days = MAX_DAYS_AHEAD),
                ));
            }
            SendTime {
                at,
                zone,
                now: false,
            }
        }
        _ => {
            return Err(AppError::field(
                "send_mode",
                crate::tr!(bulk.errors.choose_mode),
            ))
        }
    };
    if let Some(window) = marketing {
        if !inside(window, send.at) {
            let time = send.at.with_timezone(&Shanghai).format("%H:%M:%S");
            let (field, when) = if send.now {
                ("send_mode", crate::tr!(bulk.errors.now_in_china, time))
            } else {
                ("send_at", crate::tr!(bulk.errors.then_in_china, time))
            };
            return Err(AppError::field(
                field,
                crate::tr!(bulk.errors.outside_window, window, when),
            ));
        }
    }
    Ok(send)
}

fn local_time(raw: &str, zone: Tz) -> Result<DateTime<Utc>, AppError> {
    let raw = raw.trim();
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M"))
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S"))
        .map_err(|_| AppError::field("send_at", crate::tr!(bulk.errors.date_time_format)))?;
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(at) => Ok(at.with_timezone(&Utc)),
        LocalResult::Ambiguous(..) => Err(AppError::field(
            "send_at",
            crate::tr!(bulk.errors.time_twice),
        )),
        LocalResult::None => Err(AppError::field(
            "send_at",
            crate::tr!(bulk.errors.time_missing),
        )),
    }
}

/// Whether a moment falls inside the marketing window, China time.
pub fn inside(window: MarketingWindow, at: DateTime<Utc>) -> bool {
    let time = at.with_timezone(&Shanghai).time();
    window.start <= time && time < window.end
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn window() -> MarketingWindow {
        MarketingWindow {
            start: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
        }
    }

    fn now() -> DateTime<Utc> {
        // 12:00 in Shanghai.
        Utc.with_ymd_and_hms(2026, 11, 25, 4, 0, 0).unwrap()
    }

    #[test]
    fn a_scheduled_second_is_read_in_the_chosen_zone() {
        let t = parse_send_time(
            "schedule",
            "2026-11-26T10:00:05",
            "Asia/Shanghai",
            now(),
            None,
        )
        .unwrap();
        assert_eq!(t.at, Utc.with_ymd_and_hms(2026, 11, 26, 2, 0, 5).unwrap());
        let t =
            parse_send_time("schedule", "2026-11-26T10:00", "Europe/London", now(), None).unwrap();
        assert_eq!(t.at, Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap());
    }

    #[test]
    fn past_far_future_and_unknown_zones_are_refused() {
        let err = |mode: &str, local: &str, zone: &str| {
            parse_send_time(mode, local, zone, now(), None).unwrap_err()
        };
        assert!(err("schedule", "2026-11-25T11:59:59", "Asia/Shanghai")
            .field_message("send_at")
            .is_some());
        assert!(err("schedule", "2026-12-26T12:00:00", "Asia/Shanghai")
            .field_message("send_at")
            .is_some());
        assert!(err("schedule", "tomorrow", "Asia/Shanghai")
            .field_message("send_at")
            .is_some());
        assert!(err("schedule", "2026-11-26T10:00:00", "Mars/Base")
            .field_message("time_zone")
            .is_some());
        assert!(err("later", "", "UTC").field_message("send_mode").is_some());
        // 30 days ahead is still allowed.
        assert!(parse_send_time(
            "schedule",
            "2026-12-25T11:59:59",
            "Asia/Shanghai",
            now(),
            None
        )
        .is_ok());
    }

    #[test]
    fn marketing_is_kept_inside_its_window_in_china_time() {
        let w = Some(window());
        assert!(parse_send_time("now", "", "UTC", now(), w).is_ok());
        assert!(
            parse_send_time("schedule", "2026-11-26T08:00:00", "Asia/Shanghai", now(), w).is_ok()
        );
        let late = parse_send_time("schedule", "2026-11-26T22:00:00", "Asia/Shanghai", now(), w)
            .unwrap_err();
        assert!(late.field_message("send_at").unwrap().contains("22:00:00"));
        // 15:00 in London is 23:00 in Shanghai.
        assert!(
            parse_send_time("schedule", "2026-11-26T15:00:00", "Europe/London", now(), w).is_err()
        );
        let night = Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap();
        assert!(parse_send_time("now", "", "Asia/Shanghai", night, w)
            .unwrap_err()
            .field_message("send_mode")
            .is_some());
    }
}
