//! getSms and login. Codes are 6 digits from the OS's CSPRNG; only a digest is kept (see
//! `store`). A code goes out through the application's verification stream (`stream`: the same
//! frequency limits, balance, engine, receipts and statistics as any send); it is kept only once
//! its message is recorded, so a refused getSms never replaces a code the user already has.

use serde_json::Value;
use sqlx::PgPool;

use super::model::{VerifyReply, VerifySettings};
use super::store::{CodeStore, Verdict};
use super::stream::Recorded;
use crate::metrics::Metrics;
use crate::numbers::PhoneNumber;
use crate::secrets::SecretBox;
use crate::send::service as send;

/// Everything a verification request runs with.
pub struct Verifier<'a> {
    pub pool: &'a PgPool,
    pub codes: &'a CodeStore,
    pub keys: &'a super::cache::KeyCache,
    pub writer: &'a super::stream::CodeWriter,
    pub secrets: &'a SecretBox,
    /// The client's address, for the per-address limit.
    pub ip: &'a str,
    /// Unix seconds (tests move the clock).
    pub now: i64,
}

/// Why a request was not served at all (an unknown key); everything else is a reply.
#[derive(Debug, PartialEq, Eq)]
pub struct UnknownKey;

/// Serves one request body for the application whose public key came with it.
pub async fn handle(
    verifier: &Verifier<'_>,
    public_key: &str,
    body: &[u8],
) -> Result<VerifyReply, UnknownKey> {
    let settings = match verifier.keys.get(verifier.pool, public_key).await {
        Ok(Some(settings)) => settings,
        Ok(None) => return Err(UnknownKey),
        Err(err) => return Ok(internal(err)),
    };
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return Ok(VerifyReply::new(
            "InValidParam",
            "The body must be a JSON object.",
        ));
    };
    let field = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let method = field("method");
    let Some(phone) = field("phone") else {
        return Ok(VerifyReply::new("InValidParam", "phone is required."));
    };
    let Ok(phone) = PhoneNumber::parse(phone) else {
        return Ok(VerifyReply::new(
            "InValidParam",
            "phone is not a mobile number (country code and number, such as 8613800000000).",
        ));
    };
    Ok(match method {
        Some("getSms") => get_sms(verifier, &settings, &phone)
            .await
            .unwrap_or_else(internal),
        Some("login") => match field("code") {
            None => VerifyReply::new("MissingCode", "code is required."),
            Some(code) => login(verifier, &settings, &phone, code)
                .await
                .unwrap_or_else(internal),
        },
        _ => VerifyReply::new("InValidParam", "method is getSms or login."),
    })
}

/// The code store (Redis) cannot be reached; the cause is logged by `AppError::internal`.
fn unavailable(consequence: &str) -> VerifyReply {
    VerifyReply::new(
        "InternalError",
        format!("Verification codes are unavailable just now; {consequence}. Try again shortly."),
    )
}

fn internal(err: crate::error::AppError) -> VerifyReply {
    VerifyReply::new("InternalError", err.to_string())
}

/// What is kept of a code: bound to its application and number, keyed by the server's secret.
pub fn code_digest(
    secrets: &SecretBox,
    application_id: i64,
    phone: &PhoneNumber,
    code: &str,
) -> String {
    secrets.digest(&[
        "verification code",
        &application_id.to_string(),
        phone.as_str(),
        code,
    ])
}

/// The first 7 digits of the number: its operator segment and area, where pumping concentrates.
fn prefix(phone: &PhoneNumber) -> String {
    phone.as_str().chars().skip(1).take(9).collect()
}

/// Whom the per-address limit counts: an IPv4 address, or an IPv6 address's /64 network (one
/// subscriber holds a whole /64, so its single addresses would be unlimited).
fn address_key(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(v4) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}

async fn get_sms(
    verifier: &Verifier<'_>,
    settings: &VerifySettings,
    phone: &PhoneNumber,
) -> Result<VerifyReply, crate::error::AppError> {
    let application = settings.application_id;
    let by_ip = format!("ip:{}", address_key(verifier.ip));
    let by_prefix = format!("prefix:{}", prefix(phone));
    let limits = [
        (by_ip.as_str(), settings.per_ip_hourly.max(0) as u32),
        (by_prefix.as_str(), settings.per_prefix_hourly.max(0) as u32),
    ];
    let over = verifier
        .codes
        .first_over_hourly(application, &limits, verifier.now)
        .await;
    let Ok(over) = over else {
        return Ok(unavailable("nothing was sent"));
    };
    if let Some(position) = over {
        let (subject, _) = limits[position];
        tracing::warn!(application, %subject, "getSms refused by the anti-pumping limit");
        let metrics = crate::metrics::metrics();
        Metrics::outcome(&metrics.verification_sends, "refused", 1);
        let (kind, reply) = if position == 0 {
            (
                "ip",
                VerifyReply::new(
                    "LimitExceeded.ClientIpHourlyLimit",
                    "Too many codes requested from this address; try again later.",
                ),
            )
        } else {
            (
                "prefix",
                VerifyReply::new(
                    "LimitExceeded.PhonePrefixHourlyLimit",
                    "Too many codes requested for numbers like this one; try again later.",
                ),
            )
        };
        super::repo::count_abuse(verifier.pool, application, kind).await?;
        metrics.limit_hit(&reply.code);
        return Ok(reply);
    }
    let Some(sending) = verifier.keys.sending(verifier.pool, settings).await? else {
        return Ok(VerifyReply::new(
            "FailedOperation.VerifyNotConfigured",
            "This application has no approved verification template and signature set up.",
        ));
    };
    let code = format!("{:06}", {
        use rand::Rng;
        rand::rngs::OsRng.gen_range(0..1_000_000u32)
    });
    let params: Vec<String> = [code.clone(), settings.validity_minutes.to_string()]
        .into_iter()
        .take(sending.placeholders)
        .collect();
    let units =
        match send::units_per_message(&sending.template, &sending.signature.1, phone, &params) {
            Ok(units) => units,
            Err(err) => return Ok(VerifyReply::new(err.code, err.message)),
        };
    // Stored sealed: whoever reads the database (or the console) cannot log in as the user.
    let stored_params: Vec<String> = std::iter::once(verifier.secrets.seal(&code))
        .chain(params.iter().skip(1).cloned())
        .collect();
    let recorded = verifier
        .writer
        .record(application, &sending, phone, stored_params, units)
        .await;
    let metrics = crate::metrics::metrics();
    match recorded {
        Ok(Recorded::Queued) => Metrics::outcome(&metrics.verification_sends, "queued", 1),
        Ok(Recorded::Refused(code)) => {
            Metrics::outcome(&metrics.verification_sends, "refused", 1);
            return Ok(VerifyReply::new(
                code,
                crate::receipts::model::describe(code).0,
            ));
        }
        Err(err) => return Ok(VerifyReply::new(err.code, err.message)),
    }
    let kept = verifier
        .codes
        .issue(
            application,
            phone.as_str(),
            &code_digest(verifier.secrets, application, phone, &code),
            verifier.now,
            i64::from(settings.validity_minutes) * 60,
        )
        .await;
    if kept.is_err() {
        // The message is recorded and goes out, but its code could not be kept.
        return Ok(unavailable("ask for a new code in a moment"));
    }
    Ok(VerifyReply::new(
        "Ok",
        format!(
            "A code was sent; it is valid for {} minutes.",
            settings.validity_minutes
        ),
    ))
}

async fn login(
    verifier: &Verifier<'_>,
    settings: &VerifySettings,
    phone: &PhoneNumber,
    code: &str,
) -> Result<VerifyReply, crate::error::AppError> {
    let verdict = verifier
        .codes
        .check(
            settings.application_id,
            phone.as_str(),
            &code_digest(verifier.secrets, settings.application_id, phone, code),
            verifier.now,
        )
        .await;
    let Ok(verdict) = verdict else {
        return Ok(unavailable("the code was not checked"));
    };
    Ok(match verdict {
        Verdict::Accepted => VerifyReply::new("Ok", "Logged in."),
        Verdict::Wrong => VerifyReply::new("CodeIsError", "Wrong phone number or code."),
        Verdict::Expired => VerifyReply::new("CodeHasExpired", "The code has expired; ask for a new one."),
        Verdict::NoLongerValid => VerifyReply::new(
            "CodeHasValid",
            "The code is no longer valid (used, replaced, or too many wrong tries); ask for a new one.",
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::address_key;

    #[test]
    fn an_ipv6_network_counts_as_one_address() {
        assert_eq!(
            address_key("2001:db8:1:2:aaaa::1"),
            address_key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_eq!(address_key("2001:db8:1:2::7"), "2001:db8:1:2::/64");
        assert_ne!(
            address_key("2001:db8:1:2::7"),
            address_key("2001:db8:1:3::7")
        );
        assert_eq!(address_key("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(address_key("203.0.113.9"), "203.0.113.9");
        assert_ne!(address_key("203.0.113.9"), address_key("203.0.113.10"));
        assert_eq!(address_key("unknown"), "unknown");
    }
}
