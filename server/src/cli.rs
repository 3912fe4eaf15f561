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
