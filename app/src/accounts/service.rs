//! Account operations: each parses nothing (inputs arrive parsed), changes state in one
//! transaction and writes its audit record in that same transaction.

use rand::Rng;
use serde_json::json;
use sqlx::PgPool;

use super::model::{AccountType, CurrentUser, EmailAddress, Label, NewPassword, Role, Roles};
use super::repo;
use crate::audit::repo::{record, AuditEvent};
use crate::error::AppError;

/// A sign-in that passed: the user, and the session epoch the browser session starts under.
pub struct SignedIn {
    pub user: CurrentUser,
    pub session_epoch: i32,
}

pub struct OrganisationInput {
    pub name: Label,
    pub account_type: AccountType,
    pub verified: bool,
}

pub struct UserInput {
    pub email: EmailAddress,
    pub display_name: Label,
    pub password: NewPassword,
    pub roles: Roles,
}

/// First run: the organisation and its first admin, together or not at all.
pub async fn set_up(
    pool: &PgPool,
    organisation: OrganisationInput,
    admin: UserInput,
    ip: &str,
) -> Result<CurrentUser, AppError> {
    // Nobody may make the server hash a password for a set-up that cannot happen again.
    if repo::organisation(pool).await?.is_some() {
        return Err(AppError::Conflict(crate::tr!(accounts.err_already_set_up)));
    }
    let hash = repo::hash_password(&admin.password).await?;
    let mut tx = pool.begin().await?;
    repo::create_organisation(
        &mut tx,
        &organisation.name,
        organisation.account_type,
        organisation.verified,
    )
    .await?;
    let user = repo::insert_user(
        &mut tx,
        repo::NewUser {
            email: &admin.email,
            display_name: &admin.display_name,
            password_hash: &hash,
            roles: &admin.roles,
        },
    )
    .await?;
    record(
        &mut *tx,
        AuditEvent {
            actor: Some(&user),
            ip,
            action: "organisation.setup",
            object_type: "organisation",
            object_id: None,
            details: json!({
                "name": organisation.name.as_str(),
                "account_type": organisation.account_type.as_str(),
                "verified": organisation.verified,
                "admin": user.email,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Scripted installs and lock-outs: adds an admin, creating the organisation on a fresh install.
pub async fn create_admin(
    pool: &PgPool,
    organisation: Option<OrganisationInput>,
    admin: UserInput,
) -> Result<CurrentUser, AppError> {
    if repo::organisation(pool).await?.is_none() {
        let organisation = organisation.ok_or_else(|| {
            AppError::field(
                "org_name",
                "No organisation exists yet: give its name (--org-name).",
            )
        })?;
        return set_up(pool, organisation, admin, "cli").await;
    }
    create_user(pool, None, "cli", admin).await
}

/// One answer for every failure (unknown e-mail, wrong password, disabled account), so sign-in
/// never tells which accounts exist.
/// Judges a sign-in; the door starts the browser session under the answered epoch.
pub async fn sign_in(
    pool: &PgPool,
    ip: &str,
    email: &str,
    password: &str,
) -> Result<SignedIn, AppError> {
    let email = email.trim().to_lowercase();
    // Counted before the password is checked: attempts running together each use one up.
    if let Some(minutes) = repo::count_attempt(pool, &email, ip).await? {
        return Err(AppError::Throttled {
            retry_after_minutes: minutes,
        });
    }
    let account = repo::find_login(pool, &email).await?;
    let password_ok =
        repo::verify_password(account.as_ref().map(|a| a.password_hash.clone()), password).await?;
    let account = account.filter(|a| password_ok && !a.disabled);
    let Some(account) = account else {
        repo::forget_old_failures(pool).await?;
        record(
            pool,
            AuditEvent {
                actor: None,
                ip,
                action: "session.login_failed",
                object_type: "session",
                object_id: None,
                details: json!({ "email": email }),
            },
        )
        .await?;
        return Err(AppError::BadCredentials);
    };
    let user = repo::active_user(pool, account.id, account.session_epoch)
        .await?
        .ok_or(AppError::BadCredentials)?;
    // The right password: this attempt and the account's earlier failures count no more.
    repo::clear_failures(pool, &email).await?;
    record(
        pool,
        AuditEvent {
            actor: Some(&user),
            ip,
            action: "session.login",
            object_type: "session",
            object_id: None,
            details: json!({}),
        },
    )
    .await?;
    Ok(SignedIn {
        user,
        session_epoch: account.session_epoch,
    })
}

/// Records who signed out; the door ends the browser session.
pub async fn sign_out(pool: &PgPool, ip: &str, user: Option<&CurrentUser>) -> Result<(), AppError> {
    if let Some(user) = user {
        record(
            pool,
            AuditEvent {
                actor: Some(user),
                ip,
                action: "session.logout",
                object_type: "session",
                object_id: None,
                details: json!({}),
            },
        )
        .await?;
    }
    Ok(())
}

/// Adds a user; `actor` is the admin who did it, or none for the command line.
pub async fn create_user(
    pool: &PgPool,
    actor: Option<&CurrentUser>,
    ip: &str,
    input: UserInput,
) -> Result<CurrentUser, AppError> {
    let hash = repo::hash_password(&input.password).await?;
    let mut tx = pool.begin().await?;
    let user = repo::insert_user(
        &mut tx,
        repo::NewUser {
            email: &input.email,
            display_name: &input.display_name,
            password_hash: &hash,
            roles: &input.roles,
        },
    )
    .await?;
    record(
        &mut *tx,
        AuditEvent {
            actor,
            ip,
            action: "user.create",
            object_type: "user",
            object_id: Some(user.id.to_string()),
            details: json!({ "email": user.email, "roles": user.roles.as_strs() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

pub async fn change_roles(
    pool: &PgPool,
    ip: &str,
    admin: &CurrentUser,
    user_id: i64,
    roles: Roles,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let email = repo::lock_user(&mut tx, user_id).await?;
    if !roles.contains(Role::Admin) && repo::other_active_admins(&mut tx, user_id).await? == 0 {
        return Err(AppError::field(
            "roles",
            crate::tr!(accounts.err_last_admin_role),
        ));
    }
    repo::set_roles(&mut tx, user_id, &roles).await?;
    record(
        &mut *tx,
        AuditEvent {
            actor: Some(admin),
            ip,
            action: "user.roles",
            object_type: "user",
            object_id: Some(user_id.to_string()),
            details: json!({ "email": email, "roles": roles.as_strs() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_disabled(
    pool: &PgPool,
    ip: &str,
    admin: &CurrentUser,
    user_id: i64,
    disabled: bool,
) -> Result<(), AppError> {
    if disabled && user_id == admin.id {
        return Err(AppError::Conflict(crate::tr!(accounts.err_disable_self)));
    }
    let mut tx = pool.begin().await?;
    let email = repo::lock_user(&mut tx, user_id).await?;
    if disabled && repo::other_active_admins(&mut tx, user_id).await? == 0 {
        return Err(AppError::Conflict(crate::tr!(
            accounts.err_last_admin_disable
        )));
    }
    repo::set_disabled(&mut tx, user_id, disabled).await?;
    record(
        &mut *tx,
        AuditEvent {
            actor: Some(admin),
            ip,
            action: if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            object_type: "user",
            object_id: Some(user_id.to_string()),
            details: json!({ "email": email }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a generated one-time password, shown once to the admin to hand over.
/// Returns the user's e-mail with it.
pub async fn reset_password(
    pool: &PgPool,
    ip: &str,
    admin: &CurrentUser,
    user_id: i64,
) -> Result<(String, String), AppError> {
    let temporary = generate_password();
    let hash = repo::hash_password(&NewPassword::parse("password", &temporary)?).await?;
    let mut tx = pool.begin().await?;
    let email = repo::lock_user(&mut tx, user_id).await?;
    repo::set_password(&mut tx, user_id, &hash).await?;
    record(
        &mut *tx,
        AuditEvent {
            actor: Some(admin),
            ip,
            action: "user.reset_password",
            object_type: "user",
            object_id: Some(user_id.to_string()),
            details: json!({ "email": email }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((email, temporary))
}

pub async fn change_own_password(
    pool: &PgPool,
    ip: &str,
    user: &CurrentUser,
    current: &str,
    new: NewPassword,
) -> Result<i32, AppError> {
    let account = repo::find_login(pool, &user.email).await?;
    if !repo::verify_password(account.map(|a| a.password_hash), current).await? {
        return Err(AppError::field(
            "current_password",
            crate::tr!(accounts.err_wrong_current_password),
        ));
    }
    let hash = repo::hash_password(&new).await?;
    let mut tx = pool.begin().await?;
    let epoch = repo::set_password(&mut tx, user.id, &hash).await?;
    record(
        &mut *tx,
        AuditEvent {
            actor: Some(user),
            ip,
            action: "user.change_password",
            object_type: "user",
            object_id: Some(user.id.to_string()),
            details: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    // Other sessions end with the old epoch; the door carries this one on under the new one.
    Ok(epoch)
}

pub async fn update_organisation(
    pool: &PgPool,
    ip: &str,
    admin: &CurrentUser,
    input: OrganisationInput,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    repo::update_organisation(&mut tx, &input.name, input.account_type, input.verified).await?;
    record(
        &mut *tx,
        AuditEvent {
            actor: Some(admin),
            ip,
            action: "organisation.update",
            object_type: "organisation",
            object_id: None,
            details: json!({
                "name": input.name.as_str(),
                "account_type": input.account_type.as_str(),
                "verified": input.verified,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn generate_password() -> String {
    // No look-alikes (0/O, 1/l/I), since an admin reads this out or types it over.
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..16)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_passwords_meet_the_policy_and_differ() {
        let a = super::generate_password();
        let b = super::generate_password();
        assert!(super::NewPassword::parse("password", &a).is_ok());
        assert_ne!(a, b);
    }
}
