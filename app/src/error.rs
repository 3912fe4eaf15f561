//! The one error type of Herald: server functions, JSON handlers and pages all speak it.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::i18n::{td_string, Locale};

/// A problem with one input field, shown next to that field in a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Gathers the field errors of a whole form so the user sees them all at once.
#[derive(Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// Keeps a parsed value, or records why the field was refused.
    pub fn check<T>(&mut self, parsed: Result<T, AppError>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(AppError::Invalid(mut fields)) => {
                self.0.append(&mut fields);
                None
            }
            Err(other) => {
                self.0.push(FieldError {
                    field: String::new(),
                    message: other.to_string(),
                });
                None
            }
        }
    }

    pub fn into_result(self) -> Result<(), AppError> {
        self.finish(Some(()))
    }

    /// The parsed form, or every field error. `check` records an error whenever it yields `None`,
    /// so a missing value always comes with a message.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, AppError> {
        match value {
            Some(value) if self.0.is_empty() => Ok(value),
            _ => Err(AppError::Invalid(self.0)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in.")]
    Unauthenticated,
    #[error("You do not have permission to do this.")]
    Forbidden,
    #[error("Cross-site request refused.")]
    CrossSite,
    #[error("{0} not found.")]
    NotFound(String),
    #[error("Please correct the highlighted fields.")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    #[error("Insufficient balance: this needs {needed} units and {available} are available. Ask an admin to add an SMS package.")]
    InsufficientBalance { needed: i64, available: i64 },
    #[error("Incorrect e-mail or password.")]
    BadCredentials,
    #[error("Too many attempts. Try again in {retry_after_minutes} minute(s).")]
    Throttled { retry_after_minutes: i64 },
    /// Details went to the log under this id; the user only needs the id to report it.
    #[error("Something went wrong on our side (error id {0}).")]
    Internal(String),
    /// The request's arguments could not be read (a malformed or hand-made request).
    #[error("The request could not be read: {0}")]
    BadRequest(String),
    /// The request never reached our code intact (network, encoding).
    #[error("Request failed: {0}")]
    Transport(String),
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    /// The message for one form field, if this error names it.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            AppError::Invalid(errors) => errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.message.clone()),
            _ => None,
        }
    }

    /// The message for a reader of the console in `locale`. (`Display` is the API's and the log's
    /// English; field errors and conflicts were written in the reader's language when made.)
    pub fn message(&self, locale: Locale) -> String {
        match self {
            AppError::Unauthenticated => td_string!(locale, error.unauthenticated).to_string(),
            AppError::Forbidden => td_string!(locale, error.forbidden).to_string(),
            AppError::CrossSite => td_string!(locale, error.cross_site).to_string(),
            AppError::NotFound(what) => td_string!(locale, error.not_found, what).to_string(),
            AppError::Invalid(_) => td_string!(locale, error.invalid).to_string(),
            AppError::Conflict(message) => message.clone(),
            AppError::InsufficientBalance { needed, available } => {
                td_string!(locale, error.insufficient_balance, needed, available).to_string()
            }
            AppError::BadCredentials => td_string!(locale, error.bad_credentials).to_string(),
            AppError::Throttled {
                retry_after_minutes,
            } => td_string!(locale, error.throttled, minutes = retry_after_minutes).to_string(),
            AppError::Internal(id) => td_string!(locale, error.internal, id).to_string(),
            AppError::BadRequest(detail) => {
                td_string!(locale, error.bad_request, detail).to_string()
            }
            AppError::Transport(detail) => td_string!(locale, error.transport, detail).to_string(),
        }
    }

    pub fn status_code(&self) -> u16 {
        match self {
            AppError::Unauthenticated | AppError::BadCredentials => 401,
            AppError::BadRequest(_) => 400,
            AppError::Forbidden | AppError::CrossSite => 403,
            AppError::NotFound(_) => 404,
            AppError::Invalid(_) => 422,
            AppError::Conflict(_) => 409,
            AppError::InsufficientBalance { .. } => 402,
            AppError::Throttled { .. } => 429,
            AppError::Internal(_) => 500,
            AppError::Transport(_) => 502,
        }
    }

    /// The Tencent Cloud API 3.0 error code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "AuthFailure.InvalidAuthorization",
            AppError::Forbidden | AppError::CrossSite => "AuthFailure.UnauthorizedOperation",
            AppError::NotFound(_) => "ResourceNotFound",
            AppError::Invalid(_) => "InvalidParameterValue",
            AppError::BadRequest(_) => "InvalidParameter",
            AppError::Conflict(_) => "FailedOperation",
            AppError::InsufficientBalance { .. } => {
                "FailedOperation.InsufficientBalanceInSmsPackage"
            }
            AppError::BadCredentials => "AuthFailure.InvalidAuthorization",
            AppError::Throttled { .. } => "RequestLimitExceeded",
            AppError::Internal(_) | AppError::Transport(_) => "InternalError",
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                AppError::BadRequest(value.to_string())
            }
            _ => AppError::Transport(value.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::error::AppError;

    impl AppError {
        /// Logs the cause and hands the user only an id to quote.
        pub fn internal(cause: impl std::fmt::Display) -> Self {
            let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
            tracing::error!(error_id = %id, "internal error: {cause}");
            AppError::Internal(id)
        }
    }

    impl From<sqlx::Error> for AppError {
        fn from(err: sqlx::Error) -> Self {
            AppError::internal(format!("database: {err}"))
        }
    }

    impl From<tower_sessions::session::Error> for AppError {
        fn from(err: tower_sessions::session::Error) -> Self {
            AppError::internal(format!("session store: {err}"))
        }
    }

    impl axum::response::IntoResponse for AppError {
        fn into_response(self) -> axum::response::Response {
            let status = axum::http::StatusCode::from_u16(self.status_code())
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::json!({
                "Error": { "Code": self.code(), "Message": self.to_string() }
            });
            (status, axum::Json(body)).into_response()
        }
    }
}

#[cfg(feature = "ssr")]
/// An error as the Tencent-compatible API's envelope carries it: a code and a message. What the
/// send path answers, so that `SendSms`, verification codes and alerts refuse alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
}

#[cfg(feature = "ssr")]
impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<AppError> for ApiError {
    fn from(err: AppError) -> ApiError {
        // Internal details were logged by `AppError::internal`; the caller gets the error id.
        ApiError::new(err.code(), err.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> ApiError {
        AppError::from(err).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_message_finds_only_the_named_field() {
        let err = AppError::field("email", "Enter an e-mail address.");
        assert_eq!(
            err.field_message("email").as_deref(),
            Some("Enter an e-mail address.")
        );
        assert_eq!(err.field_message("password"), None);
        assert_eq!(AppError::Forbidden.field_message("email"), None);
    }

    #[test]
    fn field_errors_collects_every_refused_field() {
        let mut errors = FieldErrors::default();
        let kept: Option<u8> = errors.check(Ok(7));
        let _: Option<u8> = errors.check(Err(AppError::field("email", "bad e-mail")));
        let _: Option<u8> = errors.check(Err(AppError::field("password", "too short")));
        assert_eq!(kept, Some(7));
        let err = errors.into_result().unwrap_err();
        assert_eq!(err.field_message("email").as_deref(), Some("bad e-mail"));
        assert_eq!(err.field_message("password").as_deref(), Some("too short"));
        assert!(FieldErrors::default().into_result().is_ok());
    }

    #[test]
    fn statuses_and_codes_follow_the_kind_of_failure() {
        assert_eq!(AppError::Forbidden.status_code(), 403);
        assert_eq!(
            AppError::Forbidden.code(),
            "AuthFailure.UnauthorizedOperation"
        );
        assert_eq!(AppError::field("x", "y").status_code(), 422);
        assert_eq!(
            AppError::Throttled {
                retry_after_minutes: 3
            }
            .to_string(),
            "Too many attempts. Try again in 3 minute(s)."
        );
    }
}
