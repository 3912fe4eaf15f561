//! TC3-HMAC-SHA256, Tencent Cloud API 3.0's request signature. Each step is a function of its
//! own so the official worked examples (`tc3-vectors.json`) check every intermediate value.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::signing::hex;

pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

pub fn hashed_payload(payload: &[u8]) -> String {
    hex(&Sha256::digest(payload))
}

/// The UTC day of a request's timestamp, as the credential scope names it.
pub fn date_of(timestamp: i64) -> String {
    chrono::DateTime::from_timestamp(timestamp, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// The signed headers as the canonical request lists them: names lower-case, values trimmed and
/// lower-cased, sorted by name. Returns the `name:value\n` block and the `;`-joined names.
pub fn canonical_headers(headers: &[(&str, &str)]) -> (String, String) {
    let mut lines: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_ascii_lowercase()))
        .collect();
    lines.sort();
    let block = lines.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let names = lines
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    (block, names)
}

/// `POST` to `/` with no query string, as every Tencent Cloud API call is made.
pub fn canonical_request(headers: &[(&str, &str)], payload: &[u8]) -> String {
    let (block, names) = canonical_headers(headers);
    format!("POST\n/\n\n{block}\n{names}\n{}", hashed_payload(payload))
}

pub fn string_to_sign(timestamp: i64, service: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{}/{service}/tc3_request\n{}",
        date_of(timestamp),
        hashed_payload(canonical_request.as_bytes())
    )
}

/// The derived keys: SecretDate, SecretService and SecretSigning.
pub fn signing_keys(secret_key: &str, date: &str, service: &str) -> [[u8; 32]; 3] {
    let secret_date = hmac(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let secret_service = hmac(&secret_date, service.as_bytes());
    let secret_signing = hmac(&secret_service, b"tc3_request");
    [secret_date, secret_service, secret_signing]
}

/// The hex signature of a request signed with `headers` (at least content-type and host).
pub fn signature(
    secret_key: &str,
    timestamp: i64,
    service: &str,
    headers: &[(&str, &str)],
    payload: &[u8],
) -> String {
    let to_sign = string_to_sign(timestamp, service, &canonical_request(headers, payload));
    let [_, _, signing] = signing_keys(secret_key, &date_of(timestamp), service);
    hex(&hmac(&signing, to_sign.as_bytes()))
}

/// The `Authorization` header value for a request.
pub fn authorization(
    secret_id: &str,
    secret_key: &str,
    timestamp: i64,
    service: &str,
    headers: &[(&str, &str)],
    payload: &[u8],
) -> String {
    let (_, names) = canonical_headers(headers);
    format!(
        "{ALGORITHM} Credential={secret_id}/{}/{service}/tc3_request, SignedHeaders={names}, \
         Signature={}",
        date_of(timestamp),
        signature(secret_key, timestamp, service, headers, payload)
    )
}

/// An `Authorization` header taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub secret_id: String,
    pub date: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl Credential {
    /// `None` when the header is not a well-formed TC3 authorization.
    pub fn parse(header: &str) -> Option<Credential> {
        let rest = header.trim().strip_prefix(ALGORITHM)?.trim_start();
        let mut credential = None;
        let mut signed = None;
        let mut signature = None;
        for part in rest.split(',') {
            let (name, value) = part.trim().split_once('=')?;
            match name {
                "Credential" => credential = Some(value),
                "SignedHeaders" => signed = Some(value),
                "Signature" => signature = Some(value),
                _ => return None,
            }
        }
        let mut scope = credential?.split('/');
        let (secret_id, date, service, terminator) =
            (scope.next()?, scope.next()?, scope.next()?, scope.next()?);
        if terminator != "tc3_request" || scope.next().is_some() || secret_id.is_empty() {
            return None;
        }
        let signed_headers: Vec<String> = signed?
            .split(';')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        let signature = signature?;
        if signed_headers.iter().any(String::is_empty)
            || signature.len() != 64
            || !signature.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return None;
        }
        Some(Credential {
            secret_id: secret_id.to_owned(),
            date: date.to_owned(),
            service: service.to_owned(),
            signed_headers,
            signature: signature.to_ascii_lowercase(),
        })
    }

    /// Whether the request was signed with `secret_key`. `header` looks up a request header by
    /// its lower-case name. The scope's date must be the timestamp's day; content-type and host
    /// must be signed. Compared in constant time.
    pub fn verifies(
        &self,
        secret_key: &str,
        timestamp: i64,
        header: impl Fn(&str) -> Option<String>,
        payload: &[u8],
    ) -> bool {
        let signs = |name: &str| self.signed_headers.iter().any(|h| h == name);
        if self.date != date_of(timestamp) || !signs("content-type") || !signs("host") {
            return false;
        }
        let values: Option<Vec<(String, String)>> = self
            .signed_headers
            .iter()
            .map(|name| header(name).map(|value| (name.clone(), value)))
            .collect();
        let Some(values) = values else {
            return false;
        };
        let signed_as = |host: &str| {
            let pairs: Vec<(&str, &str)> = values
                .iter()
                .map(|(n, v)| (n.as_str(), if n == "host" { host } else { v.as_str() }))
                .collect();
            let expected = signature(secret_key, timestamp, &self.service, &pairs, payload);
            crate::signing::same(&expected, &self.signature)
        };
        let host = header("host").unwrap_or_default();
        // The Node.js SDK signs the host without its port (Tencent's endpoints have none) while
        // its Host header carries one: that spelling of the same host is accepted too.
        signed_as(&host)
            || host
                .rsplit_once(':')
                .filter(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
                .is_some_and(|(hostname, _)| signed_as(hostname))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Vec<Value> {
        let all: Value = serde_json::from_str(include_str!("tc3-vectors.json")).unwrap();
        all["vectors"].as_array().unwrap().clone()
    }

    fn headers_of(input: &Value) -> Vec<(String, String)> {
        input["signed_headers"]
            .as_str()
            .unwrap()
            .split(';')
            .map(|name| {
                let value = match name {
                    "content-type" => input["content_type"].as_str().unwrap(),
                    "host" => input["host"].as_str().unwrap(),
                    "x-tc-action" => input["action"].as_str().unwrap(),
                    other => panic!("unexpected signed header {other}"),
                };
                (name.to_owned(), value.to_owned())
            })
            .collect()
    }

    #[test]
    fn every_official_vector_matches_at_every_step() {
        let vectors = vectors();
        assert_eq!(vectors.len(), 4);
        for v in vectors {
            let (input, expected) = (&v["input"], &v["expected"]);
            let name = v["name"].as_str().unwrap();
            let text = |value: &Value| value.as_str().unwrap().to_owned();
            let owned = headers_of(input);
            let headers: Vec<(&str, &str)> = owned
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let payload = text(&input["payload"]);
            let timestamp = input["timestamp"].as_i64().unwrap();
            let service = text(&input["service"]);
            let (secret_id, secret_key) = (text(&input["secret_id"]), text(&input["secret_key"]));

            assert_eq!(date_of(timestamp), text(&input["date"]), "{name}");
            assert_eq!(
                hashed_payload(payload.as_bytes()),
                text(&expected["hashed_payload"]),
                "{name}"
            );
            let canonical = canonical_request(&headers, payload.as_bytes());
            assert_eq!(canonical, text(&expected["canonical_request"]), "{name}");
            assert_eq!(
                hashed_payload(canonical.as_bytes()),
                text(&expected["hashed_canonical_request"]),
                "{name}"
            );
            assert_eq!(
                string_to_sign(timestamp, &service, &canonical),
                text(&expected["string_to_sign"]),
                "{name}"
            );
            let [date_key, service_key, signing_key] =
                signing_keys(&secret_key, &text(&input["date"]), &service);
            assert_eq!(hex(&date_key), text(&expected["secret_date"]), "{name}");
            assert_eq!(
                hex(&service_key),
                text(&expected["secret_service"]),
                "{name}"
            );
            assert_eq!(
                hex(&signing_key),
                text(&expected["secret_signing"]),
                "{name}"
            );
            assert_eq!(
                signature(
                    &secret_key,
                    timestamp,
                    &service,
                    &headers,
                    payload.as_bytes()
                ),
                text(&expected["signature"]),
                "{name}"
            );
            let header = authorization(
                &secret_id,
                &secret_key,
                timestamp,
                &service,
                &headers,
                payload.as_bytes(),
            );
            assert_eq!(header, text(&expected["authorization"]), "{name}");

            let credential = Credential::parse(&header).expect(name);
            assert_eq!(credential.secret_id, secret_id);
            let lookup = |wanted: &str| {
                owned
                    .iter()
                    .find(|(n, _)| n == wanted)
                    .map(|(_, v)| v.clone())
            };
            assert!(credential.verifies(&secret_key, timestamp, lookup, payload.as_bytes()));
            assert!(
                !credential.verifies("wrong", timestamp, lookup, payload.as_bytes()),
                "{name}: a wrong key must not verify"
            );
            assert!(
                !credential.verifies(&secret_key, timestamp, lookup, b"{\"Limit\": 2}"),
                "{name}: a changed body must not verify"
            );
            assert!(
                !credential.verifies(&secret_key, timestamp + 86_400, lookup, payload.as_bytes()),
                "{name}: the scope's date must be the timestamp's"
            );
        }
    }

    #[test]
    fn a_host_signed_without_its_port_verifies_as_the_node_sdk_sends_it() {
        let timestamp = 1_764_000_000;
        let body = b"{}";
        let signed = |host: &str| {
            let authorization = authorization(
                "AKID1",
                "key",
                timestamp,
                "127",
                &[("content-type", "application/json"), ("host", host)],
                body,
            );
            Credential::parse(&authorization).unwrap()
        };
        let sent_to = |host: &'static str| {
            move |name: &str| match name {
                "content-type" => Some("application/json".to_owned()),
                "host" => Some(host.to_owned()),
                _ => None,
            }
        };
        assert!(signed("127.0.0.1").verifies("key", timestamp, sent_to("127.0.0.1:3000"), body));
        assert!(signed("127.0.0.1:3000").verifies(
            "key",
            timestamp,
            sent_to("127.0.0.1:3000"),
            body
        ));
        assert!(!signed("127.0.0.1").verifies("key", timestamp, sent_to("127.0.0.2:3000"), body));
        assert!(!signed("127.0.0.1:3001").verifies(
            "key",
            timestamp,
            sent_to("127.0.0.1:3000"),
            body
        ));
        assert!(!signed("127.0.0.1").verifies("other", timestamp, sent_to("127.0.0.1:3000"), body));
    }

    #[test]
    fn malformed_authorizations_are_refused() {
        let good = "TC3-HMAC-SHA256 Credential=AKID1/2019-02-25/sms/tc3_request, \
                    SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168";
        assert!(Credential::parse(good).is_some());
        for bad in [
            "",
            "HMAC-SHA256 Credential=AKID1/2019-02-25/sms/tc3_request, SignedHeaders=host, Signature=00",
            "TC3-HMAC-SHA256 Credential=AKID1/2019-02-25/sms, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
            "TC3-HMAC-SHA256 Credential=AKID1/2019-02-25/sms/tc3_request, SignedHeaders=content-type;host, Signature=xyz",
            "TC3-HMAC-SHA256 Credential=/2019-02-25/sms/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
        ] {
            assert!(Credential::parse(bad).is_none(), "{bad}");
        }
        let unsigned_host = Credential::parse(
            "TC3-HMAC-SHA256 Credential=AKID1/2019-02-25/sms/tc3_request, SignedHeaders=content-type, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
        )
        .unwrap();
        assert!(!unsigned_host.verifies("k", 1551113065, |_| Some("x".into()), b""));
    }
}
