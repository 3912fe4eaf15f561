//! Body templates: their type and the rules their content must meet.

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::i18n::{td_string, Locale};
use crate::review::model::ReviewStatus;

/// Longest template content, and longest whole message (signature + rendered body).
pub const MAX_CONTENT_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SmsType {
    Marketing,
    Notification,
    Verification,
}

impl SmsType {
    pub const ALL: [SmsType; 3] = [
        SmsType::Verification,
        SmsType::Notification,
        SmsType::Marketing,
    ];

    /// Tencent's `SmsType` (since 2024-05-16).
    pub fn code(self) -> i16 {
        match self {
            SmsType::Marketing => 1,
            SmsType::Notification => 2,
            SmsType::Verification => 3,
        }
    }

    pub fn from_code(code: i16) -> Option<SmsType> {
        SmsType::ALL.into_iter().find(|t| t.code() == code)
    }

    pub fn parse(field: &str, raw: &str) -> Result<SmsType, AppError> {
        raw.trim()
            .parse::<i16>()
            .ok()
            .and_then(SmsType::from_code)
            .ok_or_else(|| AppError::field(field, crate::tr!(template.errors.choose_sms_type)))
    }
}

/// What the content rules depend on besides the text itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentPolicy {
    pub unsubscribe_phrases: Vec<String>,
    pub organisation_verified: bool,
}

/// One placeholder occurrence: its number and where it stands (character offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Placeholder {
    number: usize,
    start: usize,
    end: usize,
}

fn placeholders(text: &str) -> Vec<Placeholder> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '{' {
            let digits: String = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            let close = i + 1 + digits.len();
            if !digits.is_empty() && chars.get(close) == Some(&'}') {
                if let Ok(number) = digits.parse() {
                    found.push(Placeholder {
                        number,
                        start: i,
                        end: close + 1,
                    });
                }
                i = close + 1;
                continue;
            }
        }
        i += 1;
    }
    found
}

/// Every rule the content breaks, in words an operator can act on (in `locale`). Empty means
/// acceptable. The live preview shows these as the operator types; the server refuses to store
/// content with any of them.
pub fn content_problems(
    locale: Locale,
    text: &str,
    sms_type: SmsType,
    policy: &ContentPolicy,
) -> Vec<String> {
    let mut problems = Vec::new();
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return vec![td_string!(locale, template.problems.empty).to_string()];
    }
    let length = trimmed.chars().count();
    if length > MAX_CONTENT_CHARS {
        problems.push(
            td_string!(
                locale,
                template.problems.too_long,
                max = MAX_CONTENT_CHARS,
                length
            )
            .to_string(),
        );
    }
    if looks_like_markup(trimmed) {
        problems.push(td_string!(locale, template.problems.markup).to_string());
    }

    let found = placeholders(trimmed);
    let mut numbers: Vec<usize> = found.iter().map(|p| p.number).collect();
    numbers.sort_unstable();
    if numbers.iter().enumerate().any(|(i, n)| *n != i + 1) {
        let written: String = found.iter().map(|p| format!("{{{}}}", p.number)).collect();
        problems.push(td_string!(locale, template.problems.numbering, found = written).to_string());
    }
    if found.windows(2).any(|pair| pair[0].end == pair[1].start) {
        problems.push(td_string!(locale, template.problems.adjacent).to_string());
    }
    let literal: String = {
        let chars: Vec<char> = trimmed.chars().collect();
        let mut keep = vec![true; chars.len()];
        for p in &found {
            keep[p.start..p.end].iter_mut().for_each(|k| *k = false);
        }
        chars
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(c, _)| c)
            .collect()
    };
    if !found.is_empty() && !literal.chars().any(char::is_alphanumeric) {
        problems.push(td_string!(locale, template.problems.placeholders_only).to_string());
    }
    if sms_type == SmsType::Verification && found.is_empty() {
        problems.push(td_string!(locale, template.problems.needs_code).to_string());
    }
    if sms_type == SmsType::Marketing {
        if !policy.organisation_verified {
            problems.push(td_string!(locale, template.problems.marketing_unverified).to_string());
        }
        if !policy
            .unsubscribe_phrases
            .iter()
            .any(|p| trimmed.ends_with(p.as_str()))
        {
            problems.push(
                td_string!(
                    locale,
                    template.problems.needs_unsubscribe,
                    phrases = policy.unsubscribe_phrases.join(" / ")
                )
                .to_string(),
            );
        }
    }
    problems
}

/// A tag-like `<x`, `</x` or `<!` — what a browser would treat as markup.
fn looks_like_markup(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(2)
        .any(|w| w[0] == '<' && (w[1].is_ascii_alphabetic() || w[1] == '/' || w[1] == '!'))
}

/// Template content that meets every rule for its type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateContent {
    text: String,
    params: usize,
}

impl TemplateContent {
    pub fn parse(raw: &str, sms_type: SmsType, policy: &ContentPolicy) -> Result<Self, AppError> {
        let problems = content_problems(crate::locale::current(), raw, sms_type, policy);
        if let Some(first) = problems.into_iter().next() {
            return Err(AppError::field("content", first));
        }
        let text = raw.trim().to_owned();
        let params = placeholders(&text).len();
        Ok(TemplateContent { text, params })
    }

    /// Content that passed the rules when it was stored.
    pub fn from_stored(text: String) -> Self {
        let params = placeholders(&text).len();
        TemplateContent { text, params }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// How many values a send must supply (`TemplateParamSet`).
    pub fn param_count(&self) -> usize {
        self.params
    }

    /// The body with `{n}` replaced by the n-th value; a missing value leaves `{n}` visible.
    pub fn render(&self, values: &[String]) -> String {
        render_preview(&self.text, values)
    }
}

/// Content split once into literal text and placeholders, so a bulk task renders millions of
/// messages without rescanning the template for each.
#[derive(Debug, Clone)]
pub struct CompiledContent {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Value(usize),
}

impl TemplateContent {
    pub fn compile(&self) -> CompiledContent {
        let chars: Vec<char> = self.text.chars().collect();
        let mut pieces = Vec::new();
        let mut at = 0;
        for p in placeholders(&self.text) {
            if p.start > at {
                pieces.push(Piece::Text(chars[at..p.start].iter().collect()));
            }
            pieces.push(Piece::Value(p.number - 1));
            at = p.end;
        }
        if at < chars.len() {
            pieces.push(Piece::Text(chars[at..].iter().collect()));
        }
        CompiledContent { pieces }
    }
}

impl CompiledContent {
    /// Appends the body with every `{n}` replaced by `values[n - 1]` (all values must be there).
    pub fn render_into(&self, values: &[&str], out: &mut String) {
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Value(index) => out.push_str(values.get(*index).copied().unwrap_or("")),
            }
        }
    }
}

/// Fills placeholders in any text (also text still being typed, for the live preview).
pub fn render_preview(text: &str, values: &[String]) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for p in placeholders(text) {
        out.extend(&chars[at..p.start]);
        match values.get(p.number - 1).filter(|v| !v.is_empty()) {
            Some(value) => out.push_str(value),
            None => out.extend(&chars[p.start..p.end]),
        }
        at = p.end;
    }
    out.extend(&chars[at..]);
    out
}

/// The highest placeholder number in text being typed, to offer that many sample-value inputs.
pub fn placeholder_count(text: &str) -> usize {
    placeholders(text)
        .iter()
        .map(|p| p.number)
        .max()
        .unwrap_or(0)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub id: i64,
    pub name: String,
    pub sms_type: SmsType,
    pub content: String,
    pub international: bool,
    pub remark: String,
    pub status: ReviewStatus,
    pub submitted_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ContentPolicy {
        ContentPolicy {
            unsubscribe_phrases: vec!["拒收请回复R".into(), "Reply T to unsubscribe".into()],
            organisation_verified: true,
        }
    }

    fn problems(text: &str, sms_type: SmsType) -> Vec<String> {
        content_problems(Locale::en, text, sms_type, &policy())
    }

    #[test]
    fn consecutive_placeholders_from_one_are_accepted() {
        assert!(problems("尊敬的{1}，您的订单{2}已发货。", SmsType::Notification).is_empty());
        assert!(problems("Code {1}, valid for {2} minutes", SmsType::Verification).is_empty());
        assert!(problems("没有变量的通知", SmsType::Notification).is_empty());
    }

    #[test]
    fn gaps_duplicates_and_zero_are_refused() {
        for text in ["您好{1}，订单{3}", "您好{2}", "{1}和{1}", "编号{0}"] {
            let found = problems(text, SmsType::Notification);
            assert!(
                found.iter().any(|p| p.contains("consecutively")),
                "{text}: {found:?}"
            );
        }
    }

    #[test]
    fn adjacent_placeholders_are_refused() {
        let found = problems("您好{1}{2}。", SmsType::Notification);
        assert!(
            found.iter().any(|p| p.contains("next to each other")),
            "{found:?}"
        );
        assert!(problems("您好{1} {2}。", SmsType::Notification).is_empty());
    }

    #[test]
    fn placeholders_only_is_refused() {
        let found = problems("{1}，{2}", SmsType::Notification);
        assert!(
            found.iter().any(|p| p.contains("placeholders only")),
            "{found:?}"
        );
    }

    #[test]
    fn markup_is_refused_but_comparisons_are_not() {
        let found = problems("<script>alert(1)</script>{1}", SmsType::Notification);
        assert!(found.iter().any(|p| p.contains("HTML")), "{found:?}");
        assert!(problems("温度 < 5 度，注意保暖", SmsType::Notification).is_empty());
    }

    #[test]
    fn english_problems_keep_their_braces_and_tags() {
        assert_eq!(
            problems("<b>您好{1}", SmsType::Notification),
            ["Remove HTML such as <script>: SMS content is plain text."]
        );
        assert_eq!(
            problems("您好{2}", SmsType::Notification),
            ["Number placeholders {1}, {2}, … consecutively from 1, each once (found {2})."]
        );
        assert_eq!(
            problems("您好{1}{2}。", SmsType::Notification),
            ["Placeholders cannot stand next to each other, as in {1}{2}: put text between them."]
        );
    }

    #[test]
    fn length_limit_is_in_characters() {
        assert!(problems(&"长".repeat(500), SmsType::Notification).is_empty());
        assert_eq!(problems(&"长".repeat(501), SmsType::Notification).len(), 1);
    }

    #[test]
    fn marketing_needs_an_unsubscribe_phrase_at_the_end() {
        assert!(problems("春节大促，全场五折。拒收请回复R", SmsType::Marketing).is_empty());
        assert!(problems("Big sale today. Reply T to unsubscribe", SmsType::Marketing).is_empty());
        let found = problems("拒收请回复R 春节大促，全场五折", SmsType::Marketing);
        assert!(found.iter().any(|p| p.contains("unsubscribe")), "{found:?}");
    }

    #[test]
    fn marketing_is_for_verified_organisations_only() {
        let unverified = ContentPolicy {
            organisation_verified: false,
            ..policy()
        };
        let found = content_problems(
            Locale::en,
            "春节大促。拒收请回复R",
            SmsType::Marketing,
            &unverified,
        );
        assert_eq!(
            found,
            vec!["Marketing templates are only for verified organisations.".to_owned()]
        );
        assert_eq!(
            content_problems(
                Locale::zh_CN,
                "春节大促。拒收请回复R",
                SmsType::Marketing,
                &unverified
            ),
            vec!["营销短信模板仅限已认证的企业使用。".to_owned()]
        );
        assert!(
            content_problems(Locale::en, "订单已发货", SmsType::Notification, &unverified)
                .is_empty()
        );
    }

    #[test]
    fn verification_templates_need_a_code_placeholder() {
        assert_eq!(problems("您的验证码已发送", SmsType::Verification).len(), 1);
    }

    #[test]
    fn parse_counts_params_and_renders() {
        let content = TemplateContent::parse(
            " 您的验证码是{1}，{2}分钟内有效。 ",
            SmsType::Verification,
            &policy(),
        )
        .unwrap();
        assert_eq!(content.param_count(), 2);
        assert_eq!(content.as_str(), "您的验证码是{1}，{2}分钟内有效。");
        assert_eq!(
            content.render(&["123456".into(), "5".into()]),
            "您的验证码是123456，5分钟内有效。"
        );
        assert_eq!(
            content.render(&["123456".into()]),
            "您的验证码是123456，{2}分钟内有效。"
        );
        let err = TemplateContent::parse("{1}{3}", SmsType::Notification, &policy()).unwrap_err();
        assert!(err.field_message("content").is_some());
    }

    #[test]
    fn placeholder_count_follows_the_highest_number_typed() {
        assert_eq!(placeholder_count("a {1} b {3}"), 3);
        assert_eq!(placeholder_count("no placeholders"), 0);
    }

    #[test]
    fn sms_type_codes_match_tencent() {
        assert_eq!(SmsType::parse("sms_type", "1").unwrap(), SmsType::Marketing);
        assert_eq!(
            SmsType::parse("sms_type", "3").unwrap(),
            SmsType::Verification
        );
        assert!(SmsType::parse("sms_type", "0").is_err());
    }
}
