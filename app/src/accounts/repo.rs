//! Users, the organisation and sign-in throttling in Postgres; password hashing.

use std::sync::OnceLock;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use sqlx::{PgConnection, PgPool};

use super::model::{
    AccountType, CurrentUser, EmailAddress, Label, NewPassword, Organisation, Roles, UserRow,
};
use crate::error::AppError;
use crate::i18n::Locale;
use leptos_i18n::Locale as _;

/// Failed sign-ins allowed per typed e-mail, and per client address, within the window.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
pub const MAX_FAILURES_PER_IP: i64 = 30;
pub const FAILURE_WINDOW_MINUTES: i64 = 15;

/// Argon2 runs this many at once, whatever arrives: each takes 19 MiB and a core for a moment,
/// so a flood of sign-ins waits its turn instead of taking the server's memory.
const HASHING_AT_ONCE: usize = 4;

async fn hashing_turn() -> Result<tokio::sync::SemaphorePermit<'static>, AppError> {
    static TURNS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(HASHING_AT_ONCE);
    TURNS.acquire().await.map_err(AppError::internal)
}

pub async fn hash_password(password: &NewPassword) -> Result<String, AppError> {
    let plain = password.expose().to_owned();
    let _turn = hashing_turn().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(plain.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)
}

/// Verifies off the async threads. With no stored hash a dummy one is checked, so an unknown
/// e-mail takes as long as a wrong password and timing does not reveal which accounts exist.
pub async fn verify_password(stored: Option<String>, plain: &str) -> Result<bool, AppError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let plain = plain.to_owned();
    let _turn = hashing_turn().await?;
    tokio::task::spawn_blocking(move || {
        let (hash, real) = match stored {
            Some(hash) => (hash, true),
            None => (
                DUMMY
                    .get_or_init(|| {
                        let salt = SaltString::generate(&mut OsRng);
                        Argon2::default()
                            .hash_password(b"not a real password", &salt)
                            .map(|h| h.to_string())
                            .unwrap_or_default()
                    })
                    .clone(),
                false,
            ),
        };
        let matches = PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(plain.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        matches && real
    })
    .await
    .map_err(AppError::internal)
}

pub async fn user_count(pool: &PgPool) -> Result<i64, AppError> {
    Ok(
        sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM users"#)
            .fetch_one(pool)
            .await?,
    )
}

pub async fn organisation(pool: &PgPool) -> Result<Option<Organisation>, AppError> {
    let row = sqlx::query!("SELECT name, account_type, verified FROM organisation")
        .fetch_optional(pool)
        .await?;
    row.map(|r| {
        Ok(Organisation {
            account_type: AccountType::parse("account_type", &r.account_type).map_err(|_| {
                AppError::internal(format!("stored account type {}", r.account_type))
            })?,
            name: r.name,
            verified: r.verified,
        })
    })
    .transpose()
}

/// Creates the organisation row. Fails when one exists, so two racing set-ups cannot both win.
pub async fn create_organisation(
    conn: &mut PgConnection,
    name: &Label,
    account_type: AccountType,
    verified: bool,
) -> Result<(), AppError> {
    let created = sqlx::query!(
        "INSERT INTO organisation (name, account_type, verified) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO NOTHING",
        name.as_str(),
        account_type.as_str(),
        verified,
    )
    .execute(conn)
    .await?
    .rows_affected();
    if created == 1 {
        Ok(())
    } else {
        Err(AppError::Conflict(crate::tr!(accounts.err_already_set_up)))
    }
}

pub async fn update_organisation(
    conn: &mut PgConnection,
    name: &Label,
    account_type: AccountType,
    verified: bool,
) -> Result<(), AppError> {
    let updated = sqlx::query!(
        "UPDATE organisation SET name = $1, account_type = $2, verified = $3, updated_at = now()",
        name.as_str(),
        account_type.as_str(),
        verified,
    )
    .execute(conn)
    .await?
    .rows_affected();
    if updated == 1 {
        Ok(())
    } else {
        Err(AppError::NotFound(crate::tr!(accounts.what_organisation)))
    }
}

pub struct NewUser<'a> {
    pub email: &'a EmailAddress,
    pub display_name: &'a Label,
    pub password_hash: &'a str,
    pub roles: &'a Roles,
}

pub async fn insert_user(
    conn: &mut PgConnection,
    user: NewUser<'_>,
) -> Result<CurrentUser, AppError> {
    let id = sqlx::query_scalar!(
        "INSERT INTO users (email, display_name, password_hash, roles) VALUES ($1, $2, $3, $4)
         ON CONFLICT (lower(email)) DO NOTHING RETURNING id",
        user.email.as_str(),
        user.display_name.as_str(),
        user.password_hash,
        &user.roles.as_strs()[..],
    )
    .fetch_optional(conn)
    .await?;
    let id = id.ok_or_else(|| AppError::field("email", crate::tr!(accounts.err_email_taken)))?;
    Ok(CurrentUser {
        id,
        email: user.email.as_str().to_owned(),
        display_name: user.display_name.as_str().to_owned(),
        roles: user.roles.clone(),
    })
}

/// What sign-in needs to know about an account.
pub struct LoginRecord {
    pub id: i64,
    pub password_hash: String,
    pub disabled: bool,
    pub session_epoch: i32,
}

pub async fn find_login(pool: &PgPool, email: &str) -> Result<Option<LoginRecord>, AppError> {
    Ok(sqlx::query_as!(
        LoginRecord,
        r#"SELECT id, password_hash, disabled_at IS NOT NULL AS "disabled!", session_epoch
             FROM users WHERE lower(email) = lower($1)"#,
        email,
    )
    .fetch_optional(pool)
    .await?)
}

/// The active user with this id, provided the session was issued in the user's current epoch.
pub async fn active_user(
    pool: &PgPool,
    id: i64,
    epoch: i32,
) -> Result<Option<CurrentUser>, AppError> {
    let row = sqlx::query!(
        "SELECT id, email, display_name, roles FROM users
          WHERE id = $1 AND session_epoch = $2 AND disabled_at IS NULL",
        id,
        epoch,
    )
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(CurrentUser {
            id: r.id,
            email: r.email,
            display_name: r.display_name,
            roles: Roles::from_stored(&r.roles)?,
        })
    })
    .transpose()
}

struct UserRecord {
    id: i64,
    email: String,
    display_name: String,
    roles: Vec<String>,
    disabled: bool,
    created_at: chrono::DateTime<chrono::Utc>,
}

pub async fn list_users(pool: &PgPool) -> Result<Vec<UserRow>, AppError> {
    let rows = sqlx::query_as!(
        UserRecord,
        r#"SELECT id, email, display_name, roles, disabled_at IS NOT NULL AS "disabled!",
                  created_at AS "created_at: chrono::DateTime<chrono::Utc>"
             FROM users ORDER BY lower(email)"#,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(UserRow {
                id: r.id,
                email: r.email,
                display_name: r.display_name,
                roles: Roles::from_stored(&r.roles)?,
                disabled: r.disabled,
                created_at: r.created_at,
            })
        })
        .collect()
}

/// Locks the user row for a change and returns its e-mail (for the audit record).
pub async fn lock_user(conn: &mut PgConnection, id: i64) -> Result<String, AppError> {
    sqlx::query_scalar!("SELECT email FROM users WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::NotFound(crate::tr!(accounts.what_user)))
}

/// Active admins other than `except`, counted under lock so two admins cannot demote each other
/// at once and leave nobody able to administer Herald.
pub async fn other_active_admins(conn: &mut PgConnection, except: i64) -> Result<i64, AppError> {
    let ids = sqlx::query_scalar!(
        "SELECT id FROM users WHERE id <> $1 AND disabled_at IS NULL AND 'admin' = ANY (roles)
         FOR UPDATE",
        except,
    )
    .fetch_all(conn)
    .await?;
    Ok(ids.len() as i64)
}

pub async fn set_roles(conn: &mut PgConnection, id: i64, roles: &Roles) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE users SET roles = $2, updated_at = now() WHERE id = $1",
        id,
        &roles.as_strs()[..],
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Disabling also ends every session of the user.
pub async fn set_disabled(
    conn: &mut PgConnection,
    id: i64,
    disabled: bool,
) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE users
            SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END,
                session_epoch = session_epoch + CASE WHEN $2 THEN 1 ELSE 0 END,
                updated_at = now()
          WHERE id = $1",
        id,
        disabled,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A new password ends every existing session of the user; returns the new session epoch.
pub async fn set_password(
    conn: &mut PgConnection,
    id: i64,
    password_hash: &str,
) -> Result<i32, AppError> {
    Ok(sqlx::query_scalar!(
        "UPDATE users SET password_hash = $2, session_epoch = session_epoch + 1, updated_at = now()
          WHERE id = $1 RETURNING session_epoch",
        id,
        password_hash,
    )
    .fetch_one(conn)
    .await?)
}

/// Counts a sign-in attempt before its password is checked, so attempts running together are
/// all counted (a right password clears the account's count, `clear_failures`). The minutes to
/// wait when the account or the address has used up its attempts (this one is not counted).
/// Attempts for one e-mail, and from one address, take their turn through advisory locks.
pub async fn count_attempt(pool: &PgPool, email: &str, ip: &str) -> Result<Option<i64>, AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('login:' || $1, 0))",
        email,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('login-ip:' || $1, 0))",
        ip,
    )
    .execute(&mut *tx)
    .await?;
    if let Some(minutes) = throttled_for(&mut tx, email, ip).await? {
        return Ok(Some(minutes));
    }
    sqlx::query!(
        "INSERT INTO login_failures (email, ip) VALUES ($1, $2)",
        email,
        ip,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(None)
}

/// Minutes until sign-in may be tried again, when the account or the address has failed too often.
async fn throttled_for(
    conn: &mut PgConnection,
    email: &str,
    ip: &str,
) -> Result<Option<i64>, AppError> {
    let counts = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE email = $1) AS "email_failures!",
                  min(failed_at) FILTER (WHERE email = $1)
                      AS "email_oldest: chrono::DateTime<chrono::Utc>",
                  count(*) FILTER (WHERE ip = $2) AS "ip_failures!",
                  min(failed_at) FILTER (WHERE ip = $2)
                      AS "ip_oldest: chrono::DateTime<chrono::Utc>"
             FROM login_failures
            WHERE (email = $1 OR ip = $2) AND failed_at > now() - make_interval(mins => $3::int)"#,
        email,
        ip,
        FAILURE_WINDOW_MINUTES as i32,
    )
    .fetch_one(conn)
    .await?;
    let blocked_since = match (
        counts.email_failures >= MAX_FAILURES_PER_ACCOUNT,
        counts.ip_failures >= MAX_FAILURES_PER_IP,
    ) {
        (true, true) => counts.email_oldest.max(counts.ip_oldest),
        (true, false) => counts.email_oldest,
        (false, true) => counts.ip_oldest,
        (false, false) => None,
    };
    Ok(blocked_since.map(|since| {
        let free_at = since + chrono::Duration::minutes(FAILURE_WINDOW_MINUTES);
        let seconds = (free_at - chrono::Utc::now()).num_seconds().max(1);
        (seconds + 59) / 60
    }))
}

/// Forgets attempts too old to count towards any limit.
pub async fn forget_old_failures(pool: &PgPool) -> Result<(), AppError> {
    sqlx::query!(
        "DELETE FROM login_failures WHERE failed_at < now() - make_interval(mins => $1::int)",
        FAILURE_WINDOW_MINUTES as i32,
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn clear_failures(pool: &PgPool, email: &str) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM login_failures WHERE email = $1", email)
        .execute(pool)
        .await?;
    Ok(())
}

/// The language a user chose for their account, if they chose one.
pub async fn locale_of(
    executor: impl sqlx::PgExecutor<'_>,
    user_id: i64,
) -> Result<Option<Locale>, AppError> {
    let stored = sqlx::query_scalar!("SELECT locale FROM users WHERE id = $1", user_id)
        .fetch_optional(executor)
        .await?
        .flatten();
    Ok(stored.and_then(|l| l.parse().ok()))
}

pub async fn set_locale(pool: &PgPool, user_id: i64, locale: Locale) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE users SET locale = $2 WHERE id = $1",
        user_id,
        locale.as_str(),
    )
    .execute(pool)
    .await?;
    Ok(())
}
