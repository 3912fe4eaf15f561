//! Secrets Herald must read back later (carrier keys; API secret keys, which verify HMACs) are
//! stored sealed with the server's key, HERALD_SECRET_KEY: XChaCha20-Poly1305 with a random nonce
//! per value, written `v1:<base64 of nonce ‖ ciphertext>`. A database dump alone reveals none of
//! them; a sealed value moved to another row or server fails to open.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD_NO_PAD as BASE64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::AppError;

const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 24;
/// Key material shorter than this is refused: it would be guessable.
pub const MIN_KEY_CHARS: usize = 32;

#[derive(Clone)]
pub struct SecretBox {
    cipher: Arc<XChaCha20Poly1305>,
    /// A second key from the same material, for digests of short-lived secrets.
    digest_key: Arc<[u8; 32]>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(…)")
    }
}

impl SecretBox {
    /// Builds the box from HERALD_SECRET_KEY's text (any string of at least 32 characters; the
    /// key is derived from it, so a passphrase or 64 hex digits both work).
    pub fn from_key_material(material: &str) -> Result<SecretBox, String> {
        let material = material.trim();
        if material.chars().count() < MIN_KEY_CHARS {
            return Err(format!(
                "HERALD_SECRET_KEY must be at least {MIN_KEY_CHARS} characters"
            ));
        }
        let derive = |purpose: &[u8]| {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(material.as_bytes())
                .expect("HMAC takes keys of any length");
            mac.update(purpose);
            mac.finalize().into_bytes()
        };
        Ok(SecretBox {
            cipher: Arc::new(XChaCha20Poly1305::new(&derive(b"herald secret box v1"))),
            digest_key: Arc::new(derive(b"herald digest v1").into()),
        })
    }

    /// A keyed digest of `parts` (hex HMAC-SHA256): what is kept of a secret that only needs
    /// checking, such as a verification code. The parts are separated, so ("ab","c") and
    /// ("a","bc") differ.
    pub fn digest(&self, parts: &[&str]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.digest_key[..])
            .expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        crate::signing::hex(&mac.finalize().into_bytes())
    }

    /// New key material for a server that has none: 64 hex digits from the OS's CSPRNG.
    pub fn generate_key_material() -> String {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        crate::signing::hex(&bytes)
    }

    pub fn seal(&self, plain: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plain.as_bytes())
            .expect("XChaCha20-Poly1305 encrypts any length we store");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}", BASE64.encode(bytes))
    }

    pub fn is_sealed(value: &str) -> bool {
        value.starts_with(PREFIX)
    }

    /// The plain text of a sealed value; an error (logged, never shown) when it was sealed under
    /// another key or altered.
    pub fn open(&self, sealed: &str) -> Result<String, AppError> {
        let refuse = || AppError::internal("a stored secret does not open with HERALD_SECRET_KEY");
        let bytes = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| BASE64.decode(b).ok())
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or_else(refuse)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map_err(|_| refuse())?;
        String::from_utf8(plain).map_err(|_| refuse())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_unaltered() {
        let key = SecretBox::generate_key_material();
        assert_eq!(key.len(), 64);
        let sealed_box = SecretBox::from_key_material(&key).unwrap();
        let sealed = sealed_box.seal("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE");
        assert!(SecretBox::is_sealed(&sealed));
        assert!(
            !sealed.contains("Gu5t9x"),
            "the plain text is not in the stored form"
        );
        assert_ne!(
            sealed,
            sealed_box.seal("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"),
            "fresh nonce"
        );
        assert_eq!(
            sealed_box.open(&sealed).unwrap(),
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
        );

        let other = SecretBox::from_key_material(&SecretBox::generate_key_material()).unwrap();
        assert!(other.open(&sealed).is_err());
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(sealed_box
            .open(&String::from_utf8(altered).unwrap())
            .is_err());
        assert!(sealed_box.open("plain text").is_err());
    }

    #[test]
    fn short_key_material_is_refused() {
        assert!(SecretBox::from_key_material("too short").is_err());
    }
}
