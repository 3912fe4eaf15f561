//! Who a browser session belongs to.

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tower_sessions::Session;

use super::model::{CurrentUser, SessionState};
use super::repo;
use crate::error::AppError;

const USER_KEY: &str = "user";

#[derive(Serialize, Deserialize)]
struct SessionUser {
    id: i64,
    /// The user's session epoch at sign-in; a later reset or disable makes it stale.
    epoch: i32,
}

/// The session's user, re-read from the database so role changes and disabling apply at once.
pub async fn user_of(pool: &PgPool, session: &Session) -> Result<Option<CurrentUser>, AppError> {
    let Some(signed_in) = session.get::<SessionUser>(USER_KEY).await? else {
        return Ok(None);
    };
    let user = repo::active_user(pool, signed_in.id, signed_in.epoch).await?;
    if user.is_none() {
        session.flush().await?;
    }
    Ok(user)
}

/// Whether Herald is set up, and who (if anyone) the session belongs to.
pub async fn state(pool: &PgPool, session: &Session) -> Result<SessionState, AppError> {
    if repo::user_count(pool).await? == 0 {
        return Ok(SessionState::NeedsSetup);
    }
    let Some(user) = user_of(pool, session).await? else {
        return Ok(SessionState::SignedOut);
    };
    let organisation = repo::organisation(pool)
        .await?
        .ok_or_else(|| AppError::internal("users exist but the organisation row is missing"))?;
    Ok(SessionState::SignedIn { user, organisation })
}

/// A new session id on every sign-in, so an id planted before sign-in is worthless after it.
pub async fn start(session: &Session, user_id: i64, epoch: i32) -> Result<(), AppError> {
    session.cycle_id().await?;
    session
        .insert(USER_KEY, SessionUser { id: user_id, epoch })
        .await?;
    Ok(())
}

pub async fn end(session: &Session) -> Result<(), AppError> {
    session.flush().await?;
    Ok(())
}
