//! `herald` subcommands.

use std::io::Read;

use app::accounts::model::{AccountType, EmailAddress, Label, NewPassword, Role, Roles};
use app::accounts::service::{self, OrganisationInput, UserInput};
use app::error::AppError;
use clap::{Parser, Subcommand};

use crate::config::{DatabaseConfig, LogConfig, ServeConfig};

#[derive(Debug, Parser)]
#[command(name = "herald", version, about = "Herald: a self-hosted SMS platform")]
pub struct Cli {
    #[command(flatten)]
    pub log: LogConfig,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console and APIs (runs migrations first).
    Serve(ServeConfig),
    /// Bring the database schema up to date and exit.
    Migrate(DatabaseConfig),
    /// Create an admin; on a fresh install also creates the organisation.
    CreateAdmin(CreateAdmin),
    /// Run the carrier simulator as its own process (the HTTP carrier protocol on /send).
    Simulator(crate::simulator::SimulatorArgs),
    /// Applications, for scripted set-ups.
    #[command(subcommand)]
    App(AppCommand),
    /// API key pairs, for scripted set-ups.
    #[command(subcommand)]
    Apikey(ApiKeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Create an application; prints its SmsSdkAppId.
    Create {
        #[command(flatten)]
        database: DatabaseConfig,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key pair for an application; prints `SecretId SecretKey` (the only time the
    /// SecretKey is shown).
    Create {
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        secrets: crate::config::SecretConfig,
        /// The application's SmsSdkAppId.
        #[arg(long)]
        app: i64,
    },
}

pub async fn app_command(
    command: AppCommand,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let AppCommand::Create { database, name } = command;
    let name = Label::parse("name", &name, 60).map_err(explain)?;
    let pool = crate::connect(&database).await?;
    crate::migrate(&pool).await?;
    let mut tx = pool.begin().await?;
    let app = app::apps::repo::insert(
        &mut tx,
        &name,
        &app::apps::model::CallbackUrl::parse("callback", "").map_err(explain)?,
        "",
        None,
    )
    .await
    .map_err(explain)?;
    tx.commit().await?;
    Ok(app.sdk_app_id.to_string())
}

pub async fn apikey_command(
    command: ApiKeyCommand,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let ApiKeyCommand::Create {
        database,
        secrets,
        app,
    } = command;
    let secrets = secrets.secret_box()?;
    let pool = crate::connect(&database).await?;
    crate::migrate(&pool).await?;
    let id = sqlx::query_scalar!("SELECT id FROM applications WHERE sdk_app_id = $1", app)
        .fetch_optional(&pool)
        .await?
        .ok_or_else(|| format!("no application has SmsSdkAppId {app}"))?;
    let mut conn = pool.acquire().await?;
    let pair = app::apps::keys::create(&mut conn, &secrets, id, None)
        .await
        .map_err(explain)?;
    Ok(format!("{} {}", pair.secret_id, pair.secret_key))
}

#[derive(Debug, clap::Args)]
pub struct CreateAdmin {
    #[command(flatten)]
    pub database: DatabaseConfig,
    #[arg(long)]
    pub email: String,
    /// Display name; defaults to the part of the e-mail before the @.
    #[arg(long)]
    pub name: Option<String>,
    /// Read the password from standard input (the only way: never pass it as an argument).
    #[arg(long, required = true)]
    pub password_stdin: bool,
    /// Organisation name, needed when none exists yet.
    #[arg(long)]
    pub org_name: Option<String>,
    #[arg(long, default_value = "organisation")]
    pub account_type: String,
    /// Mark the new organisation as verified (allows marketing SMS).
    #[arg(long)]
    pub verified: bool,
}

pub async fn create_admin(
    args: CreateAdmin,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    let display_name = args
        .name
        .clone()
        .unwrap_or_else(|| args.email.split('@').next().unwrap_or("admin").to_owned());
    let admin = UserInput {
        email: EmailAddress::parse("email", &args.email).map_err(explain)?,
        display_name: Label::parse("name", &display_name, 80).map_err(explain)?,
        password: NewPassword::parse("password", password).map_err(explain)?,
        roles: Roles::new(vec![Role::Admin]).map_err(explain)?,
    };
    let organisation = match &args.org_name {
        Some(name) => Some(OrganisationInput {
            name: Label::parse("org-name", name, 100).map_err(explain)?,
            account_type: AccountType::parse("account-type", &args.account_type)
                .map_err(explain)?,
            verified: args.verified,
        }),
        None => None,
    };
    let pool = crate::connect(&args.database).await?;
    crate::migrate(&pool).await?;
    let user = service::create_admin(&pool, organisation, admin)
        .await
        .map_err(explain)?;
    Ok(format!("created admin {} (id {})", user.email, user.id))
}

/// Field errors read as `field: message` on a terminal.
fn explain(err: AppError) -> Box<dyn std::error::Error + Send + Sync> {
    match &err {
        AppError::Invalid(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ")
            .into(),
        _ => err.to_string().into(),
    }
}
