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
    #[command(flatten)]
    pub secrets: SecretConfig,
    /// Redis for counters every server shares (frequency limits). Unset: this process keeps
    /// them in memory, which is right only for a single server.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Where the Tencent Cloud SMS API is served (the SDKs post to `/`).
    #[arg(long, env = "HERALD_TENCENT_API_PATH", default_value = "/")]
    pub tencent_api_path: String,
    /// Prefix of Herald's Redis keys, for deployments sharing one Redis.
    #[arg(long, env = "HERALD_REDIS_PREFIX", default_value = "herald:")]
    pub redis_prefix: String,
    /// Where the verification-code service (getSms / login) is served.
    #[arg(long, env = "HERALD_VERIFY_PATH", default_value = "/verify")]
    pub verify_path: String,
    /// The bearer token Prometheus presents at `/metrics`. Unset: no `/metrics`.
    #[arg(long, env = "HERALD_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

impl ServeConfig {
    /// Where verification codes live: Redis when configured, else this process's memory.
    pub async fn code_store(
        &self,
    ) -> Result<app::verify::store::CodeStore, Box<dyn std::error::Error + Send + Sync>> {
        Ok(match &self.redis_url {
            Some(url) => app::verify::store::CodeStore::redis(url, &self.redis_prefix).await?,
            None => {
                tracing::info!(
                    "REDIS_URL unset: verification codes kept in this process only (one server)"
                );
                app::verify::store::CodeStore::in_memory()
            }
        })
    }

    pub async fn limiter(
        &self,
    ) -> Result<app::limits::store::Limiter, Box<dyn std::error::Error + Send + Sync>> {
        Ok(match &self.redis_url {
            Some(url) => app::limits::store::Limiter::redis(url, &self.redis_prefix).await?,
            None => {
                tracing::info!("REDIS_URL unset: frequency limits counted in this process only");
                app::limits::store::Limiter::in_memory()
            }
        })
    }
}

#[derive(Debug, Clone, Args)]
pub struct SecretConfig {
    /// Seals stored secrets (carrier keys, API secret keys); at least 32 characters. Every server
    /// on one database needs the same. Unset: read from (or generated into) the data directory.
    #[arg(long, env = "HERALD_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Where Herald keeps what it generates for itself (the secret key when none is given).
    #[arg(long, env = "HERALD_DATA_DIR", default_value = ".data")]
    pub data_dir: std::path::PathBuf,
}

impl SecretConfig {
    /// The box stored secrets are sealed with: HERALD_SECRET_KEY, else `<data dir>/secret.key`,
    /// created (readable by this user only) on first start.
    pub fn secret_box(
        &self,
    ) -> Result<app::secrets::SecretBox, Box<dyn std::error::Error + Send + Sync>> {
        if let Some(key) = &self.secret_key {
            return Ok(app::secrets::SecretBox::from_key_material(key)?);
        }
        let path = self.data_dir.join("secret.key");
        let key = match std::fs::read_to_string(&path) {
            Ok(key) => key,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                use std::io::Write;
                use std::os::unix::fs::OpenOptionsExt;
                std::fs::create_dir_all(&self.data_dir)?;
                let key = app::secrets::SecretBox::generate_key_material();
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)?;
                file.write_all(key.as_bytes())?;
                tracing::info!(
                    "generated a secret key in {}; back it up with the database",
                    path.display()
                );
                key
            }
            Err(err) => return Err(format!("reading {}: {err}", path.display()).into()),
        };
        Ok(app::secrets::SecretBox::from_key_material(&key)?)
    }
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
