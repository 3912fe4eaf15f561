//! How many billable parts an SMS is. The console's live preview runs this same code in the
//! browser, so what the operator sees is what the server bills.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encoding {
    /// Plain GSM 03.38 text: 160 per message, 153 per part when split.
    Gsm7,
    /// Anything else (all mainland SMS in practice): 70 per message, 67 per part when split.
    Ucs2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segments {
    pub encoding: Encoding,
    /// Characters as billed: GSM extension characters count 2.
    pub billed_chars: usize,
    pub parts: usize,
}

const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENSION: &str = "|^€{}[]~\\\u{c}";

fn gsm_cost(c: char) -> Option<usize> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The parts of a whole message (signature with its 【】 plus the rendered body).
pub fn segments(message: &str) -> Segments {
    let gsm: Option<usize> = message.chars().map(gsm_cost).sum();
    let (encoding, billed_chars, single, part) = match gsm {
        Some(units) => (Encoding::Gsm7, units, 160, 153),
        None => (Encoding::Ucs2, message.chars().count(), 70, 67),
    };
    let parts = match billed_chars {
        0 => 0,
        n if n <= single => 1,
        n => n.div_ceil(part),
    };
    Segments {
        encoding,
        billed_chars,
        parts,
    }
}

/// The signature as it appears on the handset, in front of the body.
pub fn with_signature(signature: &str, body: &str) -> String {
    format!("【{signature}】{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ucs2(n: usize) -> String {
        "短".repeat(n)
    }

    #[test]
    fn ucs2_boundaries() {
        for (chars, parts) in [
            (1, 1),
            (70, 1),
            (71, 2),
            (134, 2),
            (135, 3),
            (201, 3),
            (202, 4),
        ] {
            let s = segments(&ucs2(chars));
            assert_eq!(
                (s.encoding, s.billed_chars, s.parts),
                (Encoding::Ucs2, chars, parts),
                "{chars} chars"
            );
        }
    }

    #[test]
    fn every_character_counts_one_in_ucs2() {
        // Letters, digits, spaces and punctuation beside Chinese all count 1.
        let s = segments("【腾讯云】您的验证码是 1234, 5 分钟内有效。");
        assert_eq!(s.encoding, Encoding::Ucs2);
        assert_eq!(
            s.billed_chars,
            "【腾讯云】您的验证码是 1234, 5 分钟内有效。"
                .chars()
                .count()
        );
    }

    #[test]
    fn gsm_boundaries() {
        for (chars, parts) in [(160, 1), (161, 2), (306, 2), (307, 3)] {
            let s = segments(&"a".repeat(chars));
            assert_eq!(
                (s.encoding, s.parts),
                (Encoding::Gsm7, parts),
                "{chars} chars"
            );
        }
    }

    #[test]
    fn gsm_extension_characters_count_two() {
        let s = segments(&format!("{}{{", "a".repeat(158)));
        assert_eq!((s.billed_chars, s.parts), (160, 1));
        let s = segments(&format!("{}€", "a".repeat(159)));
        assert_eq!((s.billed_chars, s.parts), (161, 2));
        assert_eq!(segments("[x]").billed_chars, 5);
    }

    #[test]
    fn one_non_gsm_character_makes_the_whole_message_ucs2() {
        let s = segments(&format!("{}é", "a".repeat(100)));
        assert_eq!(s.encoding, Encoding::Gsm7, "é is in the GSM basic set");
        let s = segments(&format!("{}ê", "a".repeat(100)));
        assert_eq!((s.encoding, s.parts), (Encoding::Ucs2, 2));
    }

    #[test]
    fn signature_brackets_are_part_of_the_length() {
        assert_eq!(with_signature("腾讯云", "你好"), "【腾讯云】你好");
        assert_eq!(segments(&with_signature("腾讯云", &ucs2(65))).parts, 1);
        assert_eq!(segments(&with_signature("腾讯云", &ucs2(66))).parts, 2);
    }

    #[test]
    fn empty_message_has_no_parts() {
        assert_eq!(segments("").parts, 0);
    }
}
