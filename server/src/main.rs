use clap::Parser;
use herald::cli::{Cli, Command};
use herald::config::init_tracing;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.log);
    let outcome = match cli.command {
        Command::Serve(config) => herald::serve(config).await.map(|()| None),
        Command::Migrate(database) => {
            async {
                let pool = herald::connect(&database).await?;
                herald::migrate(&pool).await?;
                Ok(Some("migrations applied".to_owned()))
            }
            .await
        }
        Command::CreateAdmin(args) => herald::cli::create_admin(args).await.map(Some),
        Command::Simulator(args) => herald::simulator::run(args).await.map(|()| None),
        Command::App(command) => herald::cli::app_command(command).await.map(Some),
        Command::Apikey(command) => herald::cli::apikey_command(command).await.map(Some),
    };
    match outcome {
        Ok(message) => {
            if let Some(message) = message {
                println!("{message}");
            }
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("herald: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
