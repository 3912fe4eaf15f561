//! Mobile numbers: parsed once at the edge (uploads, the API, the verification service) into
//! E.164, with the reason when a value is not a number we can send to.

#[cfg(feature = "ssr")]
pub mod tencent;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::i18n::{td_string, Locale};

/// A number Herald can send to, in E.164 (`+8613800000000`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PhoneNumber(String);

/// Why a value is not a usable number. The text is what the validation report shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NumberProblem {
    Empty,
    /// Spreadsheet scientific notation that has lost digits (1.38E+10): guessing would send to a
    /// stranger, so it is refused.
    LostDigits,
    NotANumber,
    InvalidMainland,
    InvalidInternational,
}

impl fmt::Display for NumberProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe(Locale::en))
    }
}

impl NumberProblem {
    /// The problem in the console's language (`Display`, the API's, is the English).
    pub fn describe(&self, locale: Locale) -> &'static str {
        match self {
            NumberProblem::Empty => td_string!(locale, numbers.empty),
            NumberProblem::LostDigits => td_string!(locale, numbers.lost_digits),
            NumberProblem::NotANumber => td_string!(locale, numbers.not_a_number),
            NumberProblem::InvalidMainland => td_string!(locale, numbers.invalid_mainland),
            NumberProblem::InvalidInternational => {
                td_string!(locale, numbers.invalid_international)
            }
        }
    }
}

/// Mainland mobile operators, told apart by the number's first digits. A virtual operator's
/// numbers count for the network it rents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MobileCarrier {
    ChinaMobile,
    ChinaUnicom,
    ChinaTelecom,
    ChinaBroadnet,
    /// Abroad, or a mainland prefix that is not one of the four networks' phone numbers.
    Other,
}

impl MobileCarrier {
    /// Every operator, by code.
    pub const ALL: [MobileCarrier; 5] = [
        MobileCarrier::Other,
        MobileCarrier::ChinaMobile,
        MobileCarrier::ChinaUnicom,
        MobileCarrier::ChinaTelecom,
        MobileCarrier::ChinaBroadnet,
    ];

    /// The operator as SQL's `mobile_operator()` numbers it and the per-operator counters store
    /// it.
    pub fn code(self) -> i16 {
        match self {
            MobileCarrier::Other => 0,
            MobileCarrier::ChinaMobile => 1,
            MobileCarrier::ChinaUnicom => 2,
            MobileCarrier::ChinaTelecom => 3,
            MobileCarrier::ChinaBroadnet => 4,
        }
    }

    /// The operator a stored code stands for; a code this build does not know is `Other`.
    pub fn from_code(code: i16) -> MobileCarrier {
        MobileCarrier::ALL
            .into_iter()
            .find(|carrier| carrier.code() == code)
            .unwrap_or(MobileCarrier::Other)
    }

    /// The English name analytics carry (`receipts::model::operator_name` translates it).
    pub fn english_name(self) -> &'static str {
        match self {
            MobileCarrier::ChinaMobile => "China Mobile",
            MobileCarrier::ChinaUnicom => "China Unicom",
            MobileCarrier::ChinaTelecom => "China Telecom",
            MobileCarrier::ChinaBroadnet => "China Broadnet",
            MobileCarrier::Other => "Other / international",
        }
    }
}

impl PhoneNumber {
    /// Reads a number as people and spreadsheets write it: `+86 138-0000-0000`, `0086…`, `86…`,
    /// bare 11 digits, a numeric cell (`13800000000.0`) or full-precision scientific notation.
    /// Anything else starting with `+` or `00` is taken as international and checked against
    /// the numbering plan of its country.
    pub fn parse(raw: &str) -> Result<PhoneNumber, NumberProblem> {
        let text: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '\u{a0}' | '\t'))
            .collect();
        if text.is_empty() {
            return Err(NumberProblem::Empty);
        }
        let text = expand_spreadsheet_number(&text)?;
        let (international, digits) = if let Some(rest) = text.strip_prefix('+') {
            (true, rest.to_owned())
        } else if let Some(rest) = text.strip_prefix("00") {
            (true, rest.to_owned())
        } else {
            (false, text)
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(NumberProblem::NotANumber);
        }
        let mainland = match (international, digits.strip_prefix("86")) {
            (true, Some(national)) => Some(national.to_owned()),
            (true, None) => None,
            (false, Some(national)) if national.len() == 11 => Some(national.to_owned()),
            (false, _) => Some(digits.clone()),
        };
        match mainland {
            Some(national) if is_mainland_mobile(&national) => {
                Ok(PhoneNumber(format!("+86{national}")))
            }
            Some(_) => Err(NumberProblem::InvalidMainland),
            None => international_number(&digits),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_mainland(&self) -> bool {
        self.0.starts_with("+86")
    }

    /// The number without its country code, as Tencent's `SubscriberNumber` (for numbers
    /// abroad, known on the server only: the browser sees the digits after `+`).
    pub fn subscriber_number(&self) -> &str {
        if let Some(national) = self.0.strip_prefix("+86") {
            return national;
        }
        #[cfg(feature = "ssr")]
        if let Ok(number) = phonenumber::parse(None, &self.0) {
            let country = number.code().value().to_string();
            if let Some(national) = self.0[1..].strip_prefix(country.as_str()) {
                return national;
            }
        }
        &self.0[1..]
    }

    /// The ISO 3166 country of the number, as Tencent's `IsoCode` (`DEF` when unknown).
    #[cfg(feature = "ssr")]
    pub fn iso_code(&self) -> String {
        if self.is_mainland() {
            return "CN".into();
        }
        phonenumber::parse(None, &self.0)
            .ok()
            .and_then(|n| n.country().id())
            .map_or_else(|| "DEF".into(), |id| id.as_ref().to_owned())
    }

    /// The country calling code without `+`, as Tencent's `CountryCode` (`86` on the mainland).
    #[cfg(feature = "ssr")]
    pub fn country_code(&self) -> String {
        if self.is_mainland() {
            return "86".into();
        }
        phonenumber::parse(None, &self.0)
            .map(|n| n.code().value().to_string())
            .unwrap_or_default()
    }

    /// The operator by prefix, the same table as SQL's `mobile_operator()` (a test holds the two
    /// together). 170 is shared out among virtual operators by its fourth digit. Satellite (174),
    /// data-only and IoT (140, 141, 144, 146, 148) and unallocated prefixes are `Other`: messages to
    /// them cannot be put down to one network's phones.
    pub fn carrier(&self) -> MobileCarrier {
        if !self.is_mainland() {
            return MobileCarrier::Other;
        }
        let national = self.subscriber_number();
        let prefix = |digits: usize| national[..digits].parse::<u32>().unwrap_or(0);
        match prefix(3) {
            170 => match prefix(4) {
                1703 | 1705 | 1706 => MobileCarrier::ChinaMobile,
                1704 | 1707..=1709 => MobileCarrier::ChinaUnicom,
                1700..=1702 => MobileCarrier::ChinaTelecom,
                _ => MobileCarrier::Other,
            },
            134..=139
            | 147
            | 150..=152
            | 157..=159
            | 165
            | 172
            | 178
            | 182..=184
            | 187
            | 188
            | 195
            | 197
            | 198 => MobileCarrier::ChinaMobile,
            130..=132 | 145 | 155 | 156 | 166 | 167 | 171 | 175 | 176 | 185 | 186 | 196 => {
                MobileCarrier::ChinaUnicom
            }
            133 | 149 | 153 | 162 | 173 | 177 | 180 | 181 | 189..=191 | 193 | 199 => {
                MobileCarrier::ChinaTelecom
            }
            192 => MobileCarrier::ChinaBroadnet,
            _ => MobileCarrier::Other,
        }
    }
}

fn is_mainland_mobile(national: &str) -> bool {
    national.len() == 11
        && national.starts_with('1')
        && matches!(national.as_bytes()[1], b'3'..=b'9')
        && national.chars().all(|c| c.is_ascii_digit())
}

/// Turns a spreadsheet's numeric rendering back into digits, refusing lossy scientific notation.
fn expand_spreadsheet_number(text: &str) -> Result<String, NumberProblem> {
    if let Some(whole) = text.strip_suffix(".0") {
        if whole.chars().all(|c| c.is_ascii_digit()) {
            return Ok(whole.to_owned());
        }
    }
    let Some((mantissa, exponent)) = text.split_once(['E', 'e']) else {
        return Ok(text.to_owned());
    };
    let exponent: usize = exponent
        .trim_start_matches('+')
        .parse()
        .map_err(|_| NumberProblem::NotANumber)?;
    let (int_part, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty()
        || !int_part.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return Err(NumberProblem::NotANumber);
    }
    if fraction.len() > exponent {
        return Err(NumberProblem::NotANumber);
    }
    let digits = format!("{int_part}{fraction}");
    let written = digits.trim_end_matches('0').len();
    let total = int_part.len() + exponent;
    // Trailing zeros beyond what was written may be real or may be lost digits: only a mantissa
    // that spells out every digit of an 11-digit number is trusted.
    if written < total && total >= 11 && fraction.len() < exponent {
        return Err(NumberProblem::LostDigits);
    }
    Ok(format!("{digits}{}", "0".repeat(exponent - fraction.len())))
}

#[cfg(feature = "ssr")]
fn international_number(digits: &str) -> Result<PhoneNumber, NumberProblem> {
    let e164 = format!("+{digits}");
    match phonenumber::parse(None, &e164) {
        Ok(number) if phonenumber::is_valid(&number) => Ok(PhoneNumber(e164)),
        _ => Err(NumberProblem::InvalidInternational),
    }
}

/// In the browser only the shape is checked; the server's parse is the one that counts.
#[cfg(not(feature = "ssr"))]
fn international_number(digits: &str) -> Result<PhoneNumber, NumberProblem> {
    if (7..=15).contains(&digits.len()) {
        Ok(PhoneNumber(format!("+{digits}")))
    } else {
        Err(NumberProblem::InvalidInternational)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(raw: &str) -> Result<String, NumberProblem> {
        PhoneNumber::parse(raw).map(|n| n.as_str().to_owned())
    }

    #[test]
    fn mainland_numbers_in_every_usual_spelling() {
        for raw in [
            "13800000000",
            "+8613800000000",
            "008613800000000",
            "8613800000000",
            "+86 138-0000-0000",
            " 138 0000 0000 ",
            "(+86) 13800000000",
            "13800000000.0",
        ] {
            assert_eq!(e164(raw).as_deref(), Ok("+8613800000000"), "{raw}");
        }
    }

    #[test]
    fn scientific_notation_is_expanded_only_when_no_digit_was_lost() {
        assert_eq!(e164("1.3812345678E+10").as_deref(), Ok("+8613812345678"));
        assert_eq!(e164("1.38E+10"), Err(NumberProblem::LostDigits));
        assert_eq!(e164("1.38e10"), Err(NumberProblem::LostDigits));
        assert_eq!(e164("1.3E+1x"), Err(NumberProblem::NotANumber));
    }

    #[test]
    fn bad_mainland_numbers_say_why() {
        assert_eq!(e164(""), Err(NumberProblem::Empty));
        assert_eq!(
            e164("1380000000"),
            Err(NumberProblem::InvalidMainland),
            "10 digits"
        );
        assert_eq!(
            e164("12800000000"),
            Err(NumberProblem::InvalidMainland),
            "no 12x mobiles"
        );
        assert_eq!(
            e164("+86 10 6552 9988"),
            Err(NumberProblem::InvalidMainland),
            "a landline"
        );
        assert_eq!(e164("138-0000-000a"), Err(NumberProblem::NotANumber));
        assert_eq!(e164("call me"), Err(NumberProblem::NotANumber));
    }

    #[test]
    fn international_numbers_are_checked_against_their_country() {
        assert_eq!(e164("+447911123456").as_deref(), Ok("+447911123456"));
        assert_eq!(e164("0016502530000").as_deref(), Ok("+16502530000"));
        assert!(!PhoneNumber::parse("+447911123456").unwrap().is_mainland());
        assert_eq!(e164("+44123"), Err(NumberProblem::InvalidInternational));
    }

    #[test]
    fn carriers_follow_the_number_prefix() {
        let carrier = |raw| PhoneNumber::parse(raw).unwrap().carrier();
        assert_eq!(carrier("13800000000"), MobileCarrier::ChinaMobile);
        assert_eq!(carrier("18600000000"), MobileCarrier::ChinaUnicom);
        assert_eq!(carrier("18900000000"), MobileCarrier::ChinaTelecom);
        assert_eq!(carrier("+447911123456"), MobileCarrier::Other);
        assert_eq!(carrier("17212345678"), MobileCarrier::ChinaMobile);
        assert_eq!(carrier("16512345678"), MobileCarrier::ChinaMobile);
        assert_eq!(
            carrier("13491234567"),
            MobileCarrier::ChinaMobile,
            "satellite, 134"
        );
        assert_eq!(carrier("17112345678"), MobileCarrier::ChinaUnicom);
        assert_eq!(carrier("16712345678"), MobileCarrier::ChinaUnicom);
        assert_eq!(carrier("16212345678"), MobileCarrier::ChinaTelecom);
        assert_eq!(carrier("19212345678"), MobileCarrier::ChinaBroadnet);
        assert_eq!(carrier("17412345678"), MobileCarrier::Other, "satellite");
        assert_eq!(carrier("14412345678"), MobileCarrier::Other, "IoT");
        assert_eq!(carrier("16012345678"), MobileCarrier::Other, "unallocated");
        assert_eq!(
            PhoneNumber::parse("+8613800000000")
                .unwrap()
                .subscriber_number(),
            "13800000000"
        );
    }

    #[test]
    fn the_170_block_is_shared_out_by_its_fourth_digit() {
        let carrier = |raw| PhoneNumber::parse(raw).unwrap().carrier();
        for (national, operator) in [
            ("17001234567", MobileCarrier::ChinaTelecom),
            ("17011234567", MobileCarrier::ChinaTelecom),
            ("17021234567", MobileCarrier::ChinaTelecom),
            ("17031234567", MobileCarrier::ChinaMobile),
            ("17041234567", MobileCarrier::ChinaUnicom),
            ("17051234567", MobileCarrier::ChinaMobile),
            ("17061234567", MobileCarrier::ChinaMobile),
            ("17071234567", MobileCarrier::ChinaUnicom),
            ("17081234567", MobileCarrier::ChinaUnicom),
            ("17091234567", MobileCarrier::ChinaUnicom),
        ] {
            assert_eq!(carrier(national), operator, "{national}");
        }
    }

    #[test]
    fn operator_codes_read_back_as_the_operator() {
        for carrier in MobileCarrier::ALL {
            assert_eq!(MobileCarrier::from_code(carrier.code()), carrier);
        }
        assert_eq!(MobileCarrier::from_code(99), MobileCarrier::Other);
    }
}
