//! `rustfs-provision`: parse the command line, set up logging, call the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use rustfs_provision::commands::{self, RunOptions};
use rustfs_provision::inventory::Inventory;
use rustfs_provision::ssh::SshOptions;

/// Install and operate a RustFS cluster over SSH from an inventory file.
#[derive(Debug, Parser)]
#[command(name = "rustfs-provision", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a commented inventory to start from (refuses to overwrite).
    Init {
        #[arg(default_value = "inventory.yaml")]
        path: PathBuf,
    },
    /// Check an inventory without connecting anywhere.
    Validate { file: PathBuf },
    /// Show what `apply` would change on each host (exit 2: changes pending, 0: none).
    Plan {
        file: PathBuf,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Install the binary and configuration where they differ (after a clean plan); starts nothing.
    Stage {
        file: PathBuf,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Per host: reachable, installed version, service state.
    Status {
        file: PathBuf,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Create the cluster CA in the state directory (no-op when it exists).
    Ca {
        file: PathBuf,
        #[arg(long, env = "RUSTFS_PROVISION_STATE_DIR")]
        state_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The provisioner's state directory [default: ~/.local/state/rustfs-provision/CLUSTER].
    #[arg(long, env = "RUSTFS_PROVISION_STATE_DIR")]
    state_dir: Option<PathBuf>,
    /// Trust and record host keys seen for the first time (a changed key is still refused).
    #[arg(long)]
    accept_new: bool,
    /// Seconds to connect, check the host key and authenticate.
    #[arg(long, default_value_t = 10)]
    connect_timeout_secs: u64,
    /// Seconds any one remote command may take.
    #[arg(long, default_value_t = 120)]
    command_timeout_secs: u64,
    /// Hosts worked on at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
}

impl RunArgs {
    fn options(&self) -> RunOptions {
        RunOptions {
            state_dir: self.state_dir.clone(),
            accept_new: self.accept_new,
            ssh: SshOptions {
                connect_timeout: Duration::from_secs(self.connect_timeout_secs),
                command_timeout: Duration::from_secs(self.command_timeout_secs),
                ..SshOptions::default()
            },
            concurrency: self.concurrency,
        }
    }
}

fn load(file: &std::path::Path) -> anyhow::Result<Inventory> {
    Ok(Inventory::load(file)?)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUSTFS_PROVISION_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Init { path } => {
            rustfs_provision::init::write_template(&path)?;
            println!(
                "wrote {} — edit it, then run `rustfs-provision validate {}`",
                path.display(),
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { file } => {
            let inv = load(&file)?;
            let drives: usize = inv.hosts.iter().map(|h| h.drives.len()).sum();
            println!(
                "{}: valid — cluster {}, {} host(s), {drives} drive(s), {} pool(s)",
                file.display(),
                inv.cluster.name,
                inv.hosts.len(),
                inv.pool_hosts().len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan { file, run } => {
            let inv = load(&file)?;
            let plan = runtime()?
                .block_on(commands::plan(&inv, &run.options()))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{plan}");
            if plan.has_errors() {
                eprintln!("error: some hosts cannot run this cluster; fix the errors marked above");
                Ok(ExitCode::FAILURE)
            } else if plan.num_changes() > 0 {
                Ok(ExitCode::from(2))
            } else {
                Ok(ExitCode::SUCCESS)
            }
        }
        Command::Stage { file, run } => {
            let inv = load(&file)?;
            let opts = run.options();
            let rt = runtime()?;
            let plan = rt
                .block_on(commands::plan(&inv, &opts))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if plan.has_errors() {
                println!("{plan}");
                eprintln!("error: some hosts cannot run this cluster; nothing was staged");
                return Ok(ExitCode::FAILURE);
            }
            let done = rt
                .block_on(commands::stage(&inv, &opts))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut n = 0;
            for (host, actions) in &done {
                if actions.is_empty() {
                    println!("host {host}: no changes");
                }
                for a in actions {
                    println!("host {host}: {a}");
                    n += 1;
                }
            }
            if n == 0 {
                println!("stage: no changes");
            } else {
                println!("stage: {n} change(s) made");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { file, run } => {
            let inv = load(&file)?;
            let statuses = runtime()?.block_on(commands::status(&inv, &run.options()))?;
            let mut unreachable = 0;
            for s in &statuses {
                println!("{s}");
                unreachable += usize::from(s.facts.is_err());
            }
            if unreachable > 0 {
                eprintln!("error: {unreachable} host(s) unreachable");
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Ca { file, state_dir } => {
            let inv = load(&file)?;
            let opts = RunOptions {
                state_dir,
                accept_new: false,
                ssh: SshOptions::default(),
                concurrency: 1,
            };
            let ca = commands::ca(&inv, &opts)?;
            let verb = if ca.created { "created" } else { "exists" };
            println!(
                "cluster CA {verb}: {} (sha256 {})",
                ca.cert_path.display(),
                ca.fingerprint
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
