//! Account server functions: state → authorise → parse → call the domain.

use leptos::prelude::*;

use super::model::{Organisation, SessionState, UsersPageData};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use {
    super::model::{AccountType, EmailAddress, Label, NewPassword, Role, Roles},
    super::service::{self, OrganisationInput, UserInput},
    super::{repo, session},
    crate::error::FieldErrors,
    crate::i18n::Locale,
    crate::state::serve,
};

#[cfg(feature = "ssr")]
fn parse_organisation(
    errors: &mut FieldErrors,
    name: &str,
    account_type: &str,
    verified: &Option<String>,
) -> Option<OrganisationInput> {
    let name = errors.check(Label::parse("org_name", name, 100));
    let account_type = errors.check(AccountType::parse("account_type", account_type));
    Some(OrganisationInput {
        name: name?,
        account_type: account_type?,
        verified: verified.is_some(),
    })
}

#[cfg(feature = "ssr")]
fn parse_user(
    errors: &mut FieldErrors,
    email: &str,
    display_name: &str,
    password: &str,
    roles: Result<Roles, AppError>,
) -> Option<UserInput> {
    let email = errors.check(EmailAddress::parse("email", email));
    let display_name = errors.check(Label::parse("display_name", display_name, 80));
    let password = errors.check(NewPassword::parse("password", password));
    let roles = errors.check(roles);
    Some(UserInput {
        email: email?,
        display_name: display_name?,
        password: password?,
        roles: roles?,
    })
}

#[server(endpoint = "get_session")]
pub async fn get_session() -> Result<SessionState, AppError> {
    serve(|caller| async move { super::session::state(caller.pool(), &caller.session).await }).await
}

#[allow(clippy::too_many_arguments)]
#[server(endpoint = "set_up")]
pub async fn set_up(
    org_name: String,
    account_type: String,
    verified: Option<String>,
    email: String,
    display_name: String,
    password: String,
    password_confirm: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let mut errors = FieldErrors::default();
        let organisation = parse_organisation(&mut errors, &org_name, &account_type, &verified);
        let admin = parse_user(
            &mut errors,
            &email,
            &display_name,
            &password,
            Roles::new(vec![Role::Admin]),
        );
        if password != password_confirm {
            errors.check::<()>(Err(AppError::field(
                "password_confirm",
                crate::tr!(accounts.err_passwords_differ),
            )));
        }
        let (organisation, admin) = errors.finish(organisation.zip(admin))?;
        let user = service::set_up(caller.pool(), organisation, admin, &caller.ip).await?;
        let new_user_epoch = 0;
        super::session::start(&caller.session, user.id, new_user_epoch).await?;
        leptos_axum::redirect("/");
        Ok(())
    })
    .await
}

/// Signs in; answers the language the account chose, if it chose one, for the console to switch
/// to (and sets it as the browser's language cookie).
#[server(endpoint = "log_in")]
pub async fn log_in(email: String, password: String) -> Result<Option<String>, AppError> {
    serve(|caller| async move {
        let signed_in = service::sign_in(caller.pool(), &caller.ip, &email, &password).await?;
        session::start(&caller.session, signed_in.user.id, signed_in.session_epoch).await?;
        let locale = repo::locale_of(caller.pool(), signed_in.user.id).await?;
        if let Some(locale) = locale {
            crate::locale::set_cookie(locale);
        }
        leptos_axum::redirect("/");
        Ok(locale.map(|l| leptos_i18n::Locale::as_str(l).to_owned()))
    })
    .await
}

#[server(endpoint = "log_out")]
pub async fn log_out() -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.signed_in().await?;
        service::sign_out(caller.pool(), &caller.ip, user.as_ref()).await?;
        session::end(&caller.session).await?;
        leptos_axum::redirect("/login");
        Ok(())
    })
    .await
}

#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    password: String,
    password_confirm: String,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let user = caller.user().await?;
        let mut errors = FieldErrors::default();
        let new = errors.check(NewPassword::parse("password", &password));
        if password != password_confirm {
            errors.check::<()>(Err(AppError::field(
                "password_confirm",
                crate::tr!(accounts.err_passwords_differ),
            )));
        }
        let new = errors.finish(new)?;
        let epoch =
            service::change_own_password(caller.pool(), &caller.ip, &user, &current_password, new)
                .await?;
        session::start(&caller.session, user.id, epoch).await
    })
    .await
}

/// Where a freshly issued one-time password waits, in the admin's own session, until the users
/// page shows it once. It survives the redirect of a form posted before hydration.
#[cfg(feature = "ssr")]
const ISSUED_PASSWORD_KEY: &str = "issued_password";

#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<UsersPageData, AppError> {
    serve(|caller| async move {
        caller.require(Role::Admin).await?;
        let users = super::repo::list_users(caller.pool()).await?;
        let issued_password = caller.session.remove(ISSUED_PASSWORD_KEY).await?;
        Ok(UsersPageData {
            users,
            issued_password,
        })
    })
    .await
}

#[allow(clippy::too_many_arguments)]
#[server(endpoint = "create_user")]
pub async fn create_user(
    email: String,
    display_name: String,
    password: String,
    role_admin: Option<String>,
    role_operator: Option<String>,
    role_marketer: Option<String>,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let mut errors = FieldErrors::default();
        let roles = Roles::from_checkboxes(&role_admin, &role_operator, &role_marketer);
        let input = parse_user(&mut errors, &email, &display_name, &password, roles);
        let input = errors.finish(input)?;
        service::create_user(caller.pool(), Some(&admin), &caller.ip, input)
            .await
            .map(|_| ())
    })
    .await
}

#[server(endpoint = "update_user_roles")]
pub async fn update_user_roles(
    user_id: i64,
    role_admin: Option<String>,
    role_operator: Option<String>,
    role_marketer: Option<String>,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let roles = Roles::from_checkboxes(&role_admin, &role_operator, &role_marketer)?;
        service::change_roles(caller.pool(), &caller.ip, &admin, user_id, roles).await
    })
    .await
}

#[server(endpoint = "set_user_disabled")]
pub async fn set_user_disabled(user_id: i64, disabled: bool) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        service::set_disabled(caller.pool(), &caller.ip, &admin, user_id, disabled).await
    })
    .await
}

#[server(endpoint = "reset_user_password")]
pub async fn reset_user_password(user_id: i64) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let (email, password) =
            service::reset_password(caller.pool(), &caller.ip, &admin, user_id).await?;
        let issued = super::model::IssuedPassword { email, password };
        caller.session.insert(ISSUED_PASSWORD_KEY, issued).await?;
        Ok(())
    })
    .await
}

#[server(endpoint = "get_organisation")]
pub async fn get_organisation() -> Result<Organisation, AppError> {
    serve(|caller| async move {
        caller.require(Role::Admin).await?;
        super::repo::organisation(caller.pool())
            .await?
            .ok_or_else(|| AppError::NotFound(crate::tr!(accounts.what_organisation)))
    })
    .await
}

#[server(endpoint = "update_organisation")]
pub async fn update_organisation(
    org_name: String,
    account_type: String,
    verified: Option<String>,
) -> Result<(), AppError> {
    serve(|caller| async move {
        let admin = caller.require(Role::Admin).await?;
        let mut errors = FieldErrors::default();
        let input = parse_organisation(&mut errors, &org_name, &account_type, &verified);
        let input = errors.finish(input)?;
        service::update_organisation(caller.pool(), &caller.ip, &admin, input).await
    })
    .await
}

/// Saves the language chosen with the switch to the signed-in user's account, so it follows them
/// to other browsers (the cookie keeps it in this one). Signed out, there is nothing to save to.
#[server(endpoint = "remember_language")]
pub async fn remember_language(locale: String) -> Result<(), AppError> {
    serve(|caller| async move {
        let locale: Locale = locale
            .parse()
            .map_err(|_| AppError::field("locale", "Unknown language."))?;
        if let Some(user) = caller.signed_in().await? {
            repo::set_locale(caller.pool(), user.id, locale).await?;
        }
        Ok(())
    })
    .await
}
