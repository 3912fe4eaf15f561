//! SMS signatures (the 【name】 before every message) and the documents that back them.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::i18n::{td_string, Locale};
use crate::review::model::ReviewStatus;

/// 2–12 characters of Chinese, Latin letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureName(String);

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{20000}'..='\u{2a6df}')
}

/// The brackets every message shows its signature in; the console adds them.
const BRACKETS: [char; 2] = ['【', '】'];

/// Characters a reader cannot tell apart by looking: quoted they would read as “” or as nothing.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || matches!(c,
            '\u{00ad}' | '\u{034f}' | '\u{061c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}'
            | '\u{17b5}' | '\u{3164}' | '\u{feff}' | '\u{ffa0}'
            | '\u{0300}'..='\u{036f}' | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{fe00}'..='\u{fe0f}'
            | '\u{fff0}'..='\u{fff8}' | '\u{e0000}'..='\u{e0fff}')
}

/// A refused character as the reader can recognise it.
fn character_name(locale: Locale, c: char) -> String {
    match c {
        ' ' => td_string!(locale, signature.errors.space).to_string(),
        '\u{3000}' => td_string!(locale, signature.errors.full_width_space).to_string(),
        c if is_invisible(c) => format!("U+{:04X}", u32::from(c)),
        c => td_string!(locale, signature.errors.quoted, character = c).to_string(),
    }
}

/// Every reason `raw` cannot be a signature, in words for `locale`; empty means it can. The
/// signature form shows these as the operator types and the server refuses with them, so the two
/// always agree.
pub fn signature_problems(locale: Locale, raw: &str) -> Vec<String> {
    let name = raw.trim();
    let mut problems = Vec::new();
    let length = name.chars().count();
    if !(2..=12).contains(&length) {
        problems.push(td_string!(locale, signature.errors.length, length).to_string());
    }
    let mut refused: Vec<char> = Vec::new();
    for c in name
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || is_cjk(*c)))
    {
        if !refused.contains(&c) {
            refused.push(c);
        }
    }
    if refused.iter().any(|c| BRACKETS.contains(c)) {
        problems.push(td_string!(locale, signature.errors.brackets).to_string());
    }
    let named: Vec<String> = refused
        .into_iter()
        .filter(|c| !BRACKETS.contains(c))
        .map(|c| character_name(locale, c))
        .collect();
    if !named.is_empty() {
        let characters = named.join(td_string!(locale, signature.errors.list_separator));
        problems.push(td_string!(locale, signature.errors.characters, characters).to_string());
    }
    problems
}

impl SignatureName {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let locale = crate::locale::current();
        let problems = signature_problems(locale, raw);
        if !problems.is_empty() {
            return Err(AppError::field(
                "content",
                // Chinese runs sentences together; English leaves a space between them.
                problems.join(match locale {
                    Locale::zh_CN => "",
                    Locale::en => " ",
                }),
            ));
        }
        Ok(SignatureName(raw.trim().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignPurpose {
    OwnUse,
    ThirdParty,
}

impl SignPurpose {
    pub fn code(self) -> i16 {
        match self {
            SignPurpose::OwnUse => 0,
            SignPurpose::ThirdParty => 1,
        }
    }

    pub fn from_code(code: i16) -> Option<Self> {
        match code {
            0 => Some(SignPurpose::OwnUse),
            1 => Some(SignPurpose::ThirdParty),
            _ => None,
        }
    }

    /// The label in the console's language.
    pub fn name(self, locale: Locale) -> &'static str {
        match self {
            SignPurpose::OwnUse => td_string!(locale, signature.purposes.own_use),
            SignPurpose::ThirdParty => td_string!(locale, signature.purposes.third_party),
        }
    }
}

/// Signature types Tencent still accepts (website, official account and mini program are withdrawn).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignType {
    Company,
    App,
    Trademark,
    Government,
}

impl SignType {
    pub const ALL: [SignType; 4] = [
        SignType::Company,
        SignType::App,
        SignType::Trademark,
        SignType::Government,
    ];

    pub fn code(self) -> i16 {
        match self {
            SignType::Company => 0,
            SignType::App => 1,
            SignType::Trademark => 4,
            SignType::Government => 5,
        }
    }

    pub fn from_code(code: i16) -> Option<Self> {
        SignType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The label in the console's language.
    pub fn name(self, locale: Locale) -> &'static str {
        match self {
            SignType::Company => td_string!(locale, signature.sign_types.company),
            SignType::App => td_string!(locale, signature.sign_types.app),
            SignType::Trademark => td_string!(locale, signature.sign_types.trademark),
            SignType::Government => td_string!(locale, signature.sign_types.government),
        }
    }

    /// The certificates that can prove a signature of this type.
    pub fn documents(self) -> &'static [DocumentType] {
        use DocumentType::*;
        match self {
            SignType::Company => &[ThreeInOneLicence, BusinessLicence],
            SignType::App => &[
                ThreeInOneLicence,
                BusinessLicence,
                OrganisationCode,
                SocialCreditCode,
                AppScreenshot,
            ],
            SignType::Trademark => &[TrademarkCertificate],
            SignType::Government => &[OrganisationCode, SocialCreditCode],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocumentType {
    ThreeInOneLicence,
    BusinessLicence,
    OrganisationCode,
    SocialCreditCode,
    AppScreenshot,
    TrademarkCertificate,
}

impl DocumentType {
    pub const ALL: [DocumentType; 6] = [
        DocumentType::ThreeInOneLicence,
        DocumentType::BusinessLicence,
        DocumentType::OrganisationCode,
        DocumentType::SocialCreditCode,
        DocumentType::AppScreenshot,
        DocumentType::TrademarkCertificate,
    ];

    pub fn code(self) -> i16 {
        match self {
            DocumentType::ThreeInOneLicence => 0,
            DocumentType::BusinessLicence => 1,
            DocumentType::OrganisationCode => 2,
            DocumentType::SocialCreditCode => 3,
            DocumentType::AppScreenshot => 4,
            DocumentType::TrademarkCertificate => 7,
        }
    }

    pub fn from_code(code: i16) -> Option<Self> {
        DocumentType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The label in the console's language.
    pub fn name(self, locale: Locale) -> &'static str {
        match self {
            DocumentType::ThreeInOneLicence => {
                td_string!(locale, signature.documents.three_in_one_licence)
            }
            DocumentType::BusinessLicence => {
                td_string!(locale, signature.documents.business_licence)
            }
            DocumentType::OrganisationCode => {
                td_string!(locale, signature.documents.organisation_code)
            }
            DocumentType::SocialCreditCode => {
                td_string!(locale, signature.documents.social_credit_code)
            }
            DocumentType::AppScreenshot => td_string!(locale, signature.documents.app_screenshot),
            DocumentType::TrademarkCertificate => {
                td_string!(locale, signature.documents.trademark_certificate)
            }
        }
    }
}

/// A signature type with a certificate type that can prove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignKind {
    pub sign_type: SignType,
    pub document_type: DocumentType,
}

impl SignKind {
    pub fn parse(sign_type: &str, document_type: &str) -> Result<Self, AppError> {
        let sign_type = sign_type
            .trim()
            .parse()
            .ok()
            .and_then(SignType::from_code)
            .ok_or_else(|| {
                AppError::field("sign_type", crate::tr!(signature.errors.choose_sign_type))
            })?;
        let document_type = document_type
            .trim()
            .parse()
            .ok()
            .and_then(DocumentType::from_code)
            .ok_or_else(|| {
                AppError::field(
                    "document_type",
                    crate::tr!(signature.errors.choose_document_type),
                )
            })?;
        if !sign_type.documents().contains(&document_type) {
            let locale = crate::locale::current();
            let documents = sign_type
                .documents()
                .iter()
                .map(|d| d.name(locale))
                .collect::<Vec<_>>()
                .join(td_string!(locale, signature.errors.list_separator));
            return Err(AppError::field(
                "document_type",
                td_string!(
                    locale,
                    signature.errors.proved_by,
                    sign_type = sign_type.name(locale).to_lowercase(),
                    documents
                )
                .to_string(),
            ));
        }
        Ok(SignKind {
            sign_type,
            document_type,
        })
    }
}

/// The largest certificate or authorisation letter accepted.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocumentFormat {
    Png,
    Jpeg,
    Pdf,
}

impl DocumentFormat {
    /// Decided from the bytes themselves, never from the file name or the browser's claim.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(DocumentFormat::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(DocumentFormat::Jpeg)
        } else if bytes.starts_with(b"%PDF-") {
            Some(DocumentFormat::Pdf)
        } else {
            None
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            DocumentFormat::Png => "image/png",
            DocumentFormat::Jpeg => "image/jpeg",
            DocumentFormat::Pdf => "application/pdf",
        }
    }

    pub fn from_media_type(media_type: &str) -> Option<Self> {
        [
            DocumentFormat::Png,
            DocumentFormat::Jpeg,
            DocumentFormat::Pdf,
        ]
        .into_iter()
        .find(|f| f.media_type() == media_type)
    }
}

/// Checks an uploaded document: size first, then what the bytes really are.
pub fn check_document(field: &str, bytes: &[u8]) -> Result<DocumentFormat, AppError> {
    if bytes.is_empty() {
        return Err(AppError::field(
            field,
            crate::tr!(signature.errors.choose_file),
        ));
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(AppError::field(
            field,
            crate::tr!(signature.errors.file_too_large),
        ));
    }
    DocumentFormat::sniff(bytes)
        .ok_or_else(|| AppError::field(field, crate::tr!(signature.errors.file_format)))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub id: i64,
    pub content: String,
    pub purpose: SignPurpose,
    pub sign_type: SignType,
    pub document_type: DocumentType,
    pub international: bool,
    pub remark: String,
    pub certificate_id: i64,
    pub certificate_format: DocumentFormat,
    pub authorisation_id: Option<i64>,
    pub status: ReviewStatus,
    pub submitted_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_names_are_2_to_12_plain_characters() {
        assert_eq!(SignatureName::parse(" 腾讯云 ").unwrap().as_str(), "腾讯云");
        assert!(SignatureName::parse("Acme2024").is_ok());
        assert!(SignatureName::parse("这是十二个字的签名内容啊").is_ok());
        let too_long = SignatureName::parse("这是十三个字的签名内容啊啊").unwrap_err();
        assert!(too_long.field_message("content").unwrap().contains("13"));
        assert!(SignatureName::parse("云").is_err());
        assert!(
            SignatureName::parse("Acme Inc").is_err(),
            "spaces are not allowed"
        );
        assert!(
            SignatureName::parse("【腾讯】").is_err(),
            "the brackets are added, not typed"
        );
        assert!(SignatureName::parse("<b>x</b>").is_err());
    }

    #[test]
    fn every_refused_character_is_named_once_in_order_of_appearance() {
        assert_eq!(
            signature_problems(Locale::en, "A-b c-d"),
            ["Use only Chinese characters, Latin letters and digits; not allowed: “-”, space."]
        );
        assert_eq!(
            signature_problems(Locale::zh_CN, "A-b c-d"),
            ["只能使用汉字、英文字母和数字，不能包含：“-”、空格。"]
        );
    }

    #[test]
    fn characters_that_print_as_nothing_are_named_by_what_they_are() {
        let unseen = "Acme\u{200b}商城\u{3000}店\u{7}\u{a0}x";
        assert_eq!(
            signature_problems(Locale::en, unseen),
            [
                "Use only Chinese characters, Latin letters and digits; not allowed: \
              U+200B, full-width space, U+0007, U+00A0."
            ]
        );
        assert_eq!(
            signature_problems(Locale::zh_CN, unseen),
            ["只能使用汉字、英文字母和数字，不能包含：U+200B、全角空格、U+0007、U+00A0。"]
        );
    }

    #[test]
    fn brackets_are_explained_rather_than_listed() {
        assert_eq!(
            signature_problems(Locale::en, "【腾讯云】"),
            ["Leave out 【 and 】: the console puts them around the signature itself."]
        );
        assert_eq!(
            signature_problems(Locale::zh_CN, "【腾讯 云】"),
            [
                "请勿输入【】：控制台会自动在签名两侧加上。",
                "只能使用汉字、英文字母和数字，不能包含：空格。"
            ]
        );
    }

    #[test]
    fn the_length_is_counted_after_trimming_and_told_in_both_languages() {
        assert!(signature_problems(Locale::en, " 腾讯云 ").is_empty());
        assert_eq!(
            signature_problems(Locale::en, " 云 "),
            ["A signature has 2 to 12 characters (this one has 1)."]
        );
        assert_eq!(
            signature_problems(Locale::zh_CN, "这是十三个字的签名内容啊啊"),
            ["签名须为 2 到 12 个字（当前 13 个）。"]
        );
    }

    #[test]
    fn parse_refuses_with_every_problem_at_once() {
        let err = SignatureName::parse("这是十三个字的签名内容啊 啊").unwrap_err();
        assert_eq!(
            err.field_message("content").unwrap(),
            "A signature has 2 to 12 characters (this one has 14). \
             Use only Chinese characters, Latin letters and digits; not allowed: space."
        );
    }

    #[test]
    fn each_signature_type_takes_only_its_certificates() {
        let allowed: Vec<(i16, Vec<i16>)> = SignType::ALL
            .iter()
            .map(|t| (t.code(), t.documents().iter().map(|d| d.code()).collect()))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (0, vec![0, 1]),
                (1, vec![0, 1, 2, 3, 4]),
                (4, vec![7]),
                (5, vec![2, 3])
            ]
        );
        for sign_type in SignType::ALL {
            for document in DocumentType::ALL {
                let parsed =
                    SignKind::parse(&sign_type.code().to_string(), &document.code().to_string());
                assert_eq!(parsed.is_ok(), sign_type.documents().contains(&document));
            }
        }
        let err = SignKind::parse("4", "1").unwrap_err();
        assert!(err
            .field_message("document_type")
            .unwrap()
            .contains("Trademark registration"));
        assert!(SignKind::parse("2", "0").is_err(), "withdrawn website type");
    }

    #[test]
    fn documents_are_judged_by_their_bytes() {
        assert_eq!(
            check_document("f", b"\x89PNG\r\n\x1a\nrest").unwrap(),
            DocumentFormat::Png
        );
        assert_eq!(
            check_document("f", &[0xFF, 0xD8, 0xFF, 0xE0]).unwrap(),
            DocumentFormat::Jpeg
        );
        assert_eq!(
            check_document("f", b"%PDF-1.7").unwrap(),
            DocumentFormat::Pdf
        );
        assert!(check_document("f", b"GIF89a").is_err());
        assert!(check_document("f", b"<html>").is_err());
        assert!(check_document("f", b"").is_err());
        let mut big = b"%PDF-".to_vec();
        big.resize(MAX_DOCUMENT_BYTES + 1, 0);
        assert!(check_document("f", &big)
            .unwrap_err()
            .field_message("f")
            .unwrap()
            .contains("5 MB"));
        big.truncate(MAX_DOCUMENT_BYTES);
        assert!(check_document("f", &big).is_ok());
    }
}
