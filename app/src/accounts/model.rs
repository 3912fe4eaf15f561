//! Account types, parsed once at the edge so the rest of Herald can trust them.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    Admin,
    Operator,
    Marketer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Operator, Role::Marketer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Marketer => "marketer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// A user's roles: never empty, no repeats, in a stable order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles(Vec<Role>);

impl Roles {
    pub fn new(mut roles: Vec<Role>) -> Result<Self, AppError> {
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err(AppError::field(
                "roles",
                crate::tr!(accounts.err_choose_role),
            ));
        }
        Ok(Roles(roles))
    }

    /// Reads the three role checkboxes of the user forms (an unchecked box is absent).
    pub fn from_checkboxes(
        admin: &Option<String>,
        operator: &Option<String>,
        marketer: &Option<String>,
    ) -> Result<Self, AppError> {
        let picked = [
            (admin, Role::Admin),
            (operator, Role::Operator),
            (marketer, Role::Marketer),
        ];
        Roles::new(
            picked
                .into_iter()
                .filter(|(value, _)| value.is_some())
                .map(|(_, role)| role)
                .collect(),
        )
    }

    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    pub fn as_strs(&self) -> Vec<String> {
        self.0.iter().map(|r| r.as_str().to_owned()).collect()
    }

    /// Stored roles come from a CHECK-constrained column, so unknown names are a bug, not input.
    pub fn from_stored(names: &[String]) -> Result<Self, AppError> {
        let roles = names
            .iter()
            .map(|n| Role::parse(n).ok_or_else(|| AppError::Internal(format!("unknown role {n}"))))
            .collect::<Result<Vec<_>, _>>()?;
        Roles::new(roles)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(field: &str, raw: &str) -> Result<Self, AppError> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            })
            && !email.chars().any(char::is_whitespace);
        if valid {
            Ok(EmailAddress(email))
        } else {
            Err(AppError::field(field, crate::tr!(accounts.err_email)))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password that meets the policy. Never serialised, never logged.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;

    pub fn parse(field: &str, raw: &str) -> Result<Self, AppError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            Err(AppError::field(
                field,
                crate::tr!(accounts.err_min_chars, n = Self::MIN_CHARS),
            ))
        } else if chars > 128 {
            Err(AppError::field(
                field,
                crate::tr!(accounts.err_max_chars, n = 128),
            ))
        } else {
            Ok(NewPassword(raw.to_owned()))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A short human label: trimmed, non-empty, bounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label(String);

impl Label {
    pub fn parse(field: &str, raw: &str, max_chars: usize) -> Result<Self, AppError> {
        let text = raw.trim();
        if text.is_empty() {
            Err(AppError::field(field, crate::tr!(accounts.err_required)))
        } else if text.chars().count() > max_chars {
            Err(AppError::field(
                field,
                crate::tr!(accounts.err_max_chars, n = max_chars),
            ))
        } else if text.chars().any(char::is_control) {
            Err(AppError::field(
                field,
                crate::tr!(accounts.err_control_chars),
            ))
        } else {
            Ok(Label(text.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountType {
    Individual,
    Organisation,
}

impl AccountType {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Individual => "individual",
            AccountType::Organisation => "organisation",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, AppError> {
        match raw {
            "individual" => Ok(AccountType::Individual),
            "organisation" => Ok(AccountType::Organisation),
            _ => Err(AppError::field(
                field,
                crate::tr!(accounts.err_account_type),
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub name: String,
    pub account_type: AccountType,
    pub verified: bool,
}

/// Who is signed in, as the pages need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub roles: Roles,
}

impl CurrentUser {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(role)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionState {
    /// No user exists yet: the console offers the first-run setup.
    NeedsSetup,
    SignedOut,
    SignedIn {
        user: CurrentUser,
        organisation: Organisation,
    },
}

impl SessionState {
    /// Where a reader in this state who asked for the page at `path` (with `query`) belongs
    /// instead, if elsewhere: set-up until someone has set Herald up, the sign-in page (keeping
    /// the page they wanted) while signed out, and past both once signed in.
    pub fn redirect_for(&self, path: &str, query: Option<&str>) -> Option<String> {
        match self {
            SessionState::NeedsSetup => (path != SETUP_PATH).then(|| SETUP_PATH.to_owned()),
            SessionState::SignedOut if path == LOGIN_PATH => None,
            SessionState::SignedOut if path == SETUP_PATH => Some(LOGIN_PATH.to_owned()),
            SessionState::SignedOut => {
                let wanted = match query.filter(|q| !q.is_empty()) {
                    Some(query) => format!("{path}?{query}"),
                    None => path.to_owned(),
                };
                Some(match wanted.as_str() {
                    "/" => LOGIN_PATH.to_owned(),
                    _ => format!(
                        "{LOGIN_PATH}?next={}",
                        crate::forms::encode_query_value(&wanted)
                    ),
                })
            }
            SessionState::SignedIn { .. } if path == LOGIN_PATH || path == SETUP_PATH => {
                let next = query.and_then(|q| {
                    q.split('&')
                        .find_map(|pair| pair.strip_prefix("next="))
                        .map(decode_query_value)
                });
                Some(next.and_then(local_path).unwrap_or_else(|| "/".to_owned()))
            }
            SessionState::SignedIn { .. } => None,
        }
    }
}

pub const LOGIN_PATH: &str = "/login";
pub const SETUP_PATH: &str = "/setup";

/// `next` only ever leads to a page of this console: a path, never another site
/// (`//evil.example`, `https://…`, `/\evil.example`).
fn local_path(next: String) -> Option<String> {
    let bytes = next.as_bytes();
    let local = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && !next.chars().any(char::is_control);
    local.then_some(next)
}

fn decode_query_value(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The session state a page request was rendered with, worked out before rendering so that the
/// server and the browser build the same page from the first byte (see `Console`).
#[cfg(feature = "ssr")]
#[derive(Debug, Clone)]
pub struct PreloadedSession(pub SessionState);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub roles: Roles,
    pub disabled: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A one-time password an admin just issued, shown once on the users page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedPassword {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersPageData {
    pub users: Vec<UserRow>,
    pub issued_password: Option<IssuedPassword>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_in() -> SessionState {
        SessionState::SignedIn {
            user: CurrentUser {
                id: 1,
                email: "a@example.com".into(),
                display_name: "A".into(),
                roles: Roles::new(vec![Role::Admin]).unwrap(),
            },
            organisation: Organisation {
                name: "Acme".into(),
                account_type: AccountType::Organisation,
                verified: true,
            },
        }
    }

    #[test]
    fn readers_are_sent_where_they_belong_and_back_to_what_they_wanted() {
        let setup = SessionState::NeedsSetup;
        assert_eq!(setup.redirect_for("/users", None), Some("/setup".into()));
        assert_eq!(setup.redirect_for("/setup", None), None);
        let out = SessionState::SignedOut;
        assert_eq!(out.redirect_for("/", None), Some("/login".into()));
        assert_eq!(out.redirect_for("/setup", None), Some("/login".into()));
        assert_eq!(out.redirect_for("/login", Some("next=%2Fusers")), None);
        assert_eq!(
            out.redirect_for("/records/7", Some("phone=13&code=A B")),
            Some("/login?next=%2Frecords%2F7%3Fphone%3D13%26code%3DA%20B".into())
        );
        let user = signed_in();
        assert_eq!(user.redirect_for("/users", None), None);
        assert_eq!(user.redirect_for("/login", None), Some("/".into()));
        assert_eq!(
            user.redirect_for(
                "/login",
                Some("next=%2Frecords%2F7%3Fphone%3D13%26code%3DA%20B")
            ),
            Some("/records/7?phone=13&code=A B".into())
        );
        for elsewhere in [
            "%2F%2Fevil.example",
            "https://evil.example",
            "%2F%5Cevil",
            "%0A",
        ] {
            assert_eq!(
                user.redirect_for("/login", Some(&format!("next={elsewhere}"))),
                Some("/".into()),
                "{elsewhere}"
            );
        }
    }

    #[test]
    fn roles_are_sorted_deduplicated_and_never_empty() {
        let roles = Roles::new(vec![Role::Marketer, Role::Admin, Role::Marketer]).unwrap();
        assert_eq!(
            roles.iter().collect::<Vec<_>>(),
            vec![Role::Admin, Role::Marketer]
        );
        assert!(Roles::new(vec![])
            .unwrap_err()
            .field_message("roles")
            .is_some());
    }

    #[test]
    fn roles_from_checkboxes_take_only_the_ticked_ones() {
        let on = Some("on".to_owned());
        let roles = Roles::from_checkboxes(&None, &on, &on).unwrap();
        assert!(!roles.contains(Role::Admin));
        assert!(roles.contains(Role::Operator) && roles.contains(Role::Marketer));
        assert!(Roles::from_checkboxes(&None, &None, &None).is_err());
    }

    #[test]
    fn stored_roles_round_trip_and_reject_unknown_names() {
        let roles = Roles::new(vec![Role::Operator, Role::Admin]).unwrap();
        assert_eq!(Roles::from_stored(&roles.as_strs()).unwrap(), roles);
        assert!(Roles::from_stored(&["root".to_owned()]).is_err());
    }

    #[test]
    fn email_is_trimmed_lowercased_and_checked() {
        assert_eq!(
            EmailAddress::parse("email", "  Ops@Example.COM ")
                .unwrap()
                .as_str(),
            "ops@example.com"
        );
        for bad in [
            "",
            "ops",
            "@example.com",
            "ops@example",
            "ops@.com",
            "o ps@example.com",
            "a@b@c.com",
        ] {
            assert!(
                EmailAddress::parse("email", bad).is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn password_policy_counts_characters_not_bytes() {
        assert!(NewPassword::parse("password", "short").is_err());
        assert!(NewPassword::parse("password", "密码密码密码密码密码").is_ok());
        assert!(NewPassword::parse("password", &"x".repeat(129)).is_err());
    }

    #[test]
    fn labels_are_trimmed_and_bounded() {
        assert_eq!(
            Label::parse("name", "  Acme  ", 10).unwrap().as_str(),
            "Acme"
        );
        assert!(Label::parse("name", "   ", 10).is_err());
        assert!(Label::parse("name", "abcdefghijk", 10).is_err());
        assert!(Label::parse("name", "a\u{7}b", 10).is_err());
    }
}
