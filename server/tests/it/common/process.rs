//! Herald as production runs it: processes of the binary this build made, on a test's database.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const HERALD: &str = env!("CARGO_BIN_EXE_herald");

/// This run of the test binary, shared by the servers each test starts.
static RUN: std::sync::LazyLock<uuid::Uuid> = std::sync::LazyLock::new(uuid::Uuid::new_v4);

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed (SIGKILL) when dropped, so a failing test leaves nothing behind.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `herald serve` on `port`, with the tests' secret key, Redis and metrics token. Its chunk
/// leases last 2 s, so another server soon takes over the work of one a test kills.
pub fn server(database_url: &str, port: u16) -> Process {
    Process(
        Command::new(HERALD)
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("HERALD_ADDR", format!("127.0.0.1:{port}"))
            .env("HERALD_DISPATCH_WORKERS", "4")
            .env("HERALD_DISPATCH_LEASE_SECONDS", "2")
            .env("HERALD_SECRET_KEY", super::TEST_SECRET_KEY)
            .env("HERALD_METRICS_TOKEN", super::METRICS_TOKEN)
            .env("REDIS_URL", super::redis_url())
            // Per test database and run: parallel tests never share counters, and a test run
            // again (its database name is the same each time) starts from none.
            .env(
                "HERALD_REDIS_PREFIX",
                format!("herald-test:{}:{database_url}:", *RUN),
            )
            .env("HERALD_DB_MAX_CONNECTIONS", "10")
            .env("HERALD_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server"),
    )
}

/// Waits until a server (or a simulator) answers on `port`.
pub async fn wait_until_up(port: u16) {
    for _ in 0..200 {
        if reqwest::get(format!("http://127.0.0.1:{port}/ledger"))
            .await
            .is_ok()
            || reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
                .await
                .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing answers on port {port}");
}
