//! Settings from the environment (or flags), with the defaults the README lists.

use std::net::SocketAddr;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// Postgres connection string.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    #[arg(long, env = "HERALD_DB_MAX_CONNECTIONS", default_value_t = 20)]
    pub db_max_connections: u32,
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    #[command(flatten)]
    pub database: DatabaseConfig,
    /// Address the console and APIs listen on.
    #[arg(long, env = "HERALD_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Directory holding the built front end (pkg/ and public assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
    /// Mark session cookies Secure; set when Herald is served over HTTPS.
    #[arg(long, env = "HERALD_COOKIE_SECURE", default_value_t = false)]
    pub cookie_secure: bool,
    /// Hours of inactivity after which a console session ends.
    #[arg(long, env = "HERALD_SESSION_HOURS", default_value_t = 12)]
    pub session_hours: i64,
    /// Take the client address from X-Forwarded-For (only behind a proxy that sets it).
    #[arg(long, env = "HERALD_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,
    /// Dispatch workers in this process (each sends one chunk of a task at a time).
    #[arg(long, env = "HERALD_DISPATCH_WORKERS", default_value_t = 4)]
    pub dispatch_workers: usize,
    /// Seconds before another worker takes over the chunk of a worker that stopped renewing it.
    #[arg(long, env = "HERALD_DISPATCH_LEASE_SECONDS", default_value_t = 30)]
    pub dispatch_lease_seconds: i64,
    /// The address carriers reach this server at, for receipts (default: http://HERALD_ADDR).
    #[arg(long, env = "HERALD_PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl ServeConfig {
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.addr))
            .trim_end_matches('/')
            .to_owned()
    }
}

#[derive(Debug, Clone, Args)]
pub struct LogConfig {
    /// tracing filter, e.g. `info` or `herald=debug,sqlx=warn`.
    #[arg(
        long = "log",
        env = "HERALD_LOG",
        default_value = "info",
        global = true
    )]
    pub filter: String,
    #[arg(
        long,
        env = "HERALD_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
}

pub fn init_tracing(config: &LogConfig) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
