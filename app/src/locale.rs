//! The reader's language away from the page: messages built by server functions (field errors,
//! conflicts, notifications) and dates and numbers written the way each language writes them.
//!
//! Pages follow `use_i18n()`. Code that builds text before it reaches a page calls `current()`,
//! which on the server is the language of the request being answered (the console's language
//! cookie, else Accept-Language) and in the browser the console's language.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
#[cfg(feature = "ssr")]
use leptos_i18n::Locale as _;

use crate::i18n::Locale;

/// A translated string in the current language, as an owned `String`:
/// `tr!(signature.name_taken)`, `tr!(bulk.too_many, max = 50)`.
#[macro_export]
macro_rules! tr {
    ($($key_and_values:tt)*) => {
        $crate::i18n::td_string!($crate::locale::current(), $($key_and_values)*).to_string()
    };
}

#[cfg(feature = "ssr")]
tokio::task_local! {
    static REQUEST_LOCALE: Locale;
}

/// Runs `work` answering in `locale` (see `current`).
#[cfg(feature = "ssr")]
pub async fn answer_in<F: std::future::Future>(locale: Locale, work: F) -> F::Output {
    REQUEST_LOCALE.scope(locale, work).await
}

/// Runs blocking `work` (off the request's task) answering in `locale`.
#[cfg(feature = "ssr")]
pub fn answer_in_blocking<R>(locale: Locale, work: impl FnOnce() -> R) -> R {
    REQUEST_LOCALE.sync_scope(locale, work)
}

/// The language of whoever the text being built is for.
pub fn current() -> Locale {
    #[cfg(feature = "ssr")]
    {
        // Page rendering may run on other tasks than the request's; they still see its headers.
        REQUEST_LOCALE.try_with(|l| *l).unwrap_or_else(|_| {
            leptos::prelude::use_context::<axum::http::request::Parts>()
                .map(|parts| from_headers(&parts.headers))
                .unwrap_or_default()
        })
    }
    #[cfg(not(feature = "ssr"))]
    {
        leptos::prelude::use_context::<leptos_i18n::I18nContext<Locale>>()
            .map(|i18n| i18n.get_locale_untracked())
            .unwrap_or_default()
    }
}

/// The cookie the console's language switch writes (leptos_i18n's default name).
pub const COOKIE: &str = "i18n_pref_locale";

/// How long a browser remembers the console's language.
pub const COOKIE_MAX_AGE_SECONDS: i64 = 365 * 24 * 3600;

/// Makes `locale` the console's language in the browser this response goes to, as the switch
/// would (the whole console, a year).
#[cfg(feature = "ssr")]
pub fn set_cookie(locale: Locale) {
    let cookie = format!(
        "{COOKIE}={}; Path=/; Max-Age={COOKIE_MAX_AGE_SECONDS}; SameSite=Lax",
        locale.as_str()
    );
    if let (Some(response), Ok(value)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        axum::http::HeaderValue::from_str(&cookie),
    ) {
        response.append_header(axum::http::header::SET_COOKIE, value);
    }
}

/// A request's language: the console's cookie, else the best of Accept-Language, else English.
#[cfg(feature = "ssr")]
pub fn from_headers(headers: &axum::http::HeaderMap) -> Locale {
    let from_cookie = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| value.parse::<Locale>().ok());
    from_cookie.unwrap_or_else(|| {
        let accepted: Vec<&str> = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(',')
                    .filter_map(|part| part.split(';').next())
                    .map(str::trim)
                    .filter(|tag| !tag.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Locale::find_locale(&accepted)
    })
}

/// China time, the zone of Herald's users: statistics days, marketing hours and schedules are in
/// it, so every time shown is too (China has no daylight saving: a fixed offset is exact).
pub fn china_time(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset"))
}

/// A moment in China time with seconds: "26 Nov 2026, 14:05:09" / "2026年11月26日 14:05:09".
pub fn date_time(locale: Locale, at: DateTime<Utc>) -> String {
    let at = china_time(at);
    match locale {
        Locale::zh_CN => at.format("%Y年%-m月%-d日 %H:%M:%S").to_string(),
        Locale::en => at.format("%-d %b %Y, %H:%M:%S").to_string(),
    }
}

/// A moment in China time to the minute.
pub fn date_time_minutes(locale: Locale, at: DateTime<Utc>) -> String {
    let at = china_time(at);
    match locale {
        Locale::zh_CN => at.format("%Y年%-m月%-d日 %H:%M").to_string(),
        Locale::en => at.format("%-d %b %Y, %H:%M").to_string(),
    }
}

/// A calendar day: "26 Nov 2026" / "2026年11月26日".
pub fn date(locale: Locale, day: NaiveDate) -> String {
    match locale {
        Locale::zh_CN => day.format("%Y年%-m月%-d日").to_string(),
        Locale::en => day.format("%-d %b %Y").to_string(),
    }
}

/// The zone every shown and entered time is in, as a label beside it.
pub fn zone_label(locale: Locale) -> &'static str {
    match locale {
        Locale::zh_CN => "北京时间 (UTC+8)",
        Locale::en => "China time (UTC+8)",
    }
}

/// A whole number with thousands grouped: "1,234,567" (the same in both languages: figures group
/// by thousands with a comma; 万 is for prose, not tables).
pub fn number(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_are_shown_in_china_time_in_each_language_s_order() {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 18, 5, 9).unwrap();
        assert_eq!(date_time(Locale::en, at), "27 Nov 2026, 02:05:09");
        assert_eq!(date_time(Locale::zh_CN, at), "2026年11月27日 02:05:09");
        assert_eq!(date_time_minutes(Locale::zh_CN, at), "2026年11月27日 02:05");
        let day = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        assert_eq!(date(Locale::en, day), "5 Jan 2026");
        assert_eq!(date(Locale::zh_CN, day), "2026年1月5日");
    }

    #[test]
    fn numbers_group_thousands() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1_000), "1,000");
        assert_eq!(number(-1_234_567), "-1,234,567");
        assert_eq!(number(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_request_s_language_is_its_cookie_else_its_accept_language() {
        use axum::http::{header, HeaderMap, HeaderValue};
        let mut headers = HeaderMap::new();
        assert_eq!(from_headers(&headers), Locale::en);
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("zh-CN,zh;q=0.9,en;q=0.8"),
        );
        assert_eq!(from_headers(&headers), Locale::zh_CN);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("herald_session=x; i18n_pref_locale=en"),
        );
        assert_eq!(from_headers(&headers), Locale::en);
    }
}
