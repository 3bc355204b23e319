//! `rustfs-controlplane serve`: parse the CLI, set up logging, resolve the config, run.

use anyhow::Context;
use clap::Parser;
use rustfs_controlplane::config::{Cli, Command, Config, LogFormat};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Command::Serve(args) = Cli::parse().command;
    let cfg = Config::resolve(args).map_err(anyhow::Error::msg)?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUSTFS_CP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cfg.log_format {
        LogFormat::Json => fmt.json().init(),
        LogFormat::Text => fmt.init(),
    }
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; is another process using it?",
                cfg.listen
            )
        })?;
    let addr = listener.local_addr()?;
    // the certificate, the database and the admin token are ready before anyone is told where
    // to connect
    let ready = rustfs_controlplane::server::open(&cfg).await?;
    // the test harness reads this line to find the port
    println!("endpoint: {}://{addr}", ready.scheme());
    rustfs_controlplane::server::serve(cfg, ready, listener, shutdown_signal()).await
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
