//! `rustfs-provision`: parse the command line, set up logging, call the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use rustfs_provision::commands::{self, RunOptions};
use rustfs_provision::inventory::Inventory;
use rustfs_provision::ssh::SshOptions;

mod ansible_cli;

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
    /// Install, configure and start the cluster where hosts differ, wait until it is healthy,
    /// register it with the control plane and verify S3 through every node.
    Apply {
        file: PathBuf,
        #[command(flatten)]
        run: RunArgs,
        /// Do not ask for confirmation before changing hosts.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Seconds to wait for every node to report the cluster healthy.
        #[arg(long, default_value_t = 180)]
        health_timeout_secs: u64,
    },
    /// Stop the nodes and remove what `apply` installed (drives are kept unless --delete-data).
    Destroy {
        file: PathBuf,
        #[command(flatten)]
        run: RunArgs,
        /// Do not ask before stopping and removing the services.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Also delete everything on the cluster's drives (asks to type the cluster name).
        #[arg(long)]
        delete_data: bool,
        /// The cluster name, given instead of typing it (for scripts; needs --delete-data).
        #[arg(long, value_name = "CLUSTER")]
        confirm_delete_data: Option<String>,
    },
    /// Per host: reachable, installed version, service state, cluster health.
    Status {
        file: PathBuf,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Write the Prometheus directory for this cluster (scrape config, alert rules, scrape token,
    /// CA) into the state directory and print its path; `apply` writes it too. Connects nowhere.
    Prometheus {
        file: PathBuf,
        #[arg(long, env = "RUSTFS_PROVISION_STATE_DIR")]
        state_dir: Option<PathBuf>,
    },
    /// Write each host's files exactly as `apply` installs them (env file, systemd unit, start
    /// script, RPC secret, TLS material) and print a JSON manifest; connects nowhere (Ansible).
    Render(ansible_cli::RenderArgs),
    /// Print the inventory as Ansible dynamic-inventory JSON (ansible/inventory.sh runs this).
    AnsibleInventory(ansible_cli::InventoryArgs),
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

/// Asks on the terminal; `Ok(false)` when the answer is not `want`. Without a terminal there
/// is nobody to ask: an error telling what flag to pass.
fn ask(question: &str, want: &str, flag: &str) -> anyhow::Result<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "refusing to go on without confirmation: stdin is not a terminal — re-run with {flag}"
        );
    }
    print!("{question} ");
    std::io::stdout().flush().ok();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim() == want)
}

fn host_names(inv: &Inventory) -> Vec<&str> {
    inv.hosts.iter().map(|h| h.name()).collect()
}

fn apply(
    file: &std::path::Path,
    run: &RunArgs,
    yes: bool,
    health_timeout_secs: u64,
) -> anyhow::Result<ExitCode> {
    use rustfs_provision::apply::{self, ApplyOptions};
    use rustfs_provision::progress::Progress;
    let inv = load_with_binary(file, run)?;
    let opts = ApplyOptions {
        run: run.options(),
        health_timeout: Duration::from_secs(health_timeout_secs),
    };
    let rt = runtime()?;
    let progress = Progress::new(&host_names(&inv));
    let prepared = rt.block_on(apply::prepare(&inv, &opts, &progress));
    progress.clear();
    let report = match prepared {
        Err(report) => report,
        Ok(prepared) => {
            println!("{}", prepared.plan);
            let n = prepared.plan.num_changes();
            let go = if n == 0 || yes {
                true
            } else {
                let hosts = prepared
                    .plan
                    .hosts
                    .iter()
                    .filter(|h| !h.actions.is_empty())
                    .count();
                match ask(
                    &format!("apply {n} change(s) to {hosts} host(s)? type yes to go on:"),
                    "yes",
                    "--yes",
                ) {
                    Ok(go) => go,
                    Err(e) => {
                        rt.block_on(prepared.abandon());
                        return Err(e);
                    }
                }
            };
            if go {
                let progress = Progress::new(&host_names(&inv));
                let report = rt.block_on(apply::execute(prepared, &progress));
                progress.clear();
                report
            } else {
                rt.block_on(prepared.abandon())
            }
        }
    };
    print!("\n{}", report.summary());
    if report.declined {
        eprintln!("apply: cancelled — nothing was changed");
        return Ok(ExitCode::FAILURE);
    }
    if let Some((who, step, message)) = &report.failure {
        let whom = if who == "cluster" {
            "the cluster".to_string()
        } else {
            format!("host {who}")
        };
        eprintln!("error: apply failed on {whom} at step '{step}': {message}");
        return Ok(ExitCode::FAILURE);
    }
    let n = report.num_changes();
    let changes = if n == 0 {
        "no changes".to_string()
    } else {
        format!("{n} change(s) made")
    };
    let health = report
        .health_wait
        .map(|d| format!("healthy after {:.1}s", d.as_secs_f64()))
        .unwrap_or_default();
    println!(
        "apply: {changes}; cluster {health}; S3 verified through {} node(s); {:.1}s in all",
        report.verified_nodes,
        report.elapsed.as_secs_f64()
    );
    if let Some(r) = &report.registration {
        println!("apply: control plane: {r}");
    }
    if inv.tls.enabled {
        let ca = opts
            .run
            .state(&inv)?
            .path()
            .join(rustfs_provision::pki::CA_CERT);
        println!(
            "apply: S3 is served over https with certificates of the cluster CA {} (e.g. aws --ca-bundle {})",
            ca.display(),
            ca.display()
        );
    }
    if let Some(dir) = &report.monitoring {
        println!(
            "apply: Prometheus configuration and scrape token in {} (prometheus --config.file={}/prometheus.yml)",
            dir.display(),
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn destroy(
    file: &std::path::Path,
    run: &RunArgs,
    yes: bool,
    delete_data: bool,
    confirm: Option<String>,
) -> anyhow::Result<ExitCode> {
    use rustfs_provision::progress::Progress;
    let inv = load(file)?;
    let name = &inv.cluster.name;
    let n = inv.hosts.len();
    if confirm.is_some() && !delete_data {
        anyhow::bail!("--confirm-delete-data only goes with --delete-data");
    }
    if delete_data {
        let drives: usize = inv.hosts.iter().map(|h| h.drives.len()).sum();
        match confirm {
            Some(c) if c == *name => {}
            Some(c) => anyhow::bail!(
                "--confirm-delete-data {c:?} is not this cluster's name ({name:?}) — nothing was changed"
            ),
            None => {
                if !ask(
                    &format!("this deletes ALL DATA on {drives} drive(s) of {n} host(s). Type the cluster name ({name}) to go on:"),
                    name,
                    "--confirm-delete-data CLUSTER",
                )? {
                    eprintln!("destroy: cancelled — nothing was changed");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
    } else if !yes
        && !ask(
            &format!("stop and remove rustfs on {n} host(s) of cluster {name} (drives are kept)? type yes to go on:"),
            "yes",
            "--yes",
        )?
    {
        eprintln!("destroy: cancelled — nothing was changed");
        return Ok(ExitCode::FAILURE);
    }
    let progress = Progress::new(&host_names(&inv));
    let report = runtime()?.block_on(rustfs_provision::destroy::destroy(
        &inv,
        &run.options(),
        delete_data,
        &progress,
    ));
    progress.clear();
    let report = report.map_err(|e| anyhow::anyhow!("{e}"))?;
    print!("\n{}", report.summary());
    let failed = report.num_failed();
    if failed > 0 {
        eprintln!("error: destroy failed on {failed} host(s); see above");
        return Ok(ExitCode::FAILURE);
    }
    println!("destroy: removed from {n} host(s)");
    Ok(ExitCode::SUCCESS)
}

/// Options for the commands that only touch the state directory.
pub(crate) fn local_options(state_dir: Option<PathBuf>) -> RunOptions {
    RunOptions {
        state_dir,
        accept_new: false,
        ssh: SshOptions::default(),
        concurrency: 1,
    }
}

pub(crate) fn load(file: &std::path::Path) -> anyhow::Result<Inventory> {
    Ok(Inventory::load(file)?)
}

/// Prints what the inventory weakens (`validate`, `plan`, `stage`, `apply`).
fn warn(inv: &Inventory) {
    for w in inv.warnings() {
        eprintln!("warning: {w}");
    }
}

/// Loads the inventory for a command that stages or compares the binary: with `binary.url`, the
/// binary is downloaded into the state directory first (or found there) and checked.
fn load_with_binary(file: &std::path::Path, run: &RunArgs) -> anyhow::Result<Inventory> {
    let mut inv = load(file)?;
    warn(&inv);
    runtime()?
        .block_on(commands::fetch_binary(&mut inv, &run.options()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(inv)
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
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
            warn(&inv);
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
            let inv = load_with_binary(&file, &run)?;
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
            let inv = load_with_binary(&file, &run)?;
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
        Command::Apply {
            file,
            run,
            yes,
            health_timeout_secs,
        } => apply(&file, &run, yes, health_timeout_secs),
        Command::Destroy {
            file,
            run,
            yes,
            delete_data,
            confirm_delete_data,
        } => destroy(&file, &run, yes, delete_data, confirm_delete_data),
        Command::Status { file, run } => {
            let inv = load(&file)?;
            let rt = runtime()?;
            let statuses = rt.block_on(commands::status(&inv, &run.options()))?;
            let mut unreachable = 0;
            for s in &statuses {
                println!("{s}");
                unreachable += usize::from(s.facts.is_err());
            }
            // The control plane's view, when one is configured.
            match rt.block_on(commands::control_plane_view(&inv, &run.options())) {
                Ok(lines) => lines.iter().for_each(|l| println!("{l}")),
                Err(e) => println!("{e}"),
            }
            if unreachable > 0 {
                eprintln!("error: {unreachable} host(s) unreachable");
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Prometheus { file, state_dir } => {
            let inv = load(&file)?;
            let dir = commands::prometheus(&inv, &local_options(state_dir))?;
            println!(
                "Prometheus directory: {} — run: prometheus --config.file={}/prometheus.yml",
                dir.display(),
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Render(args) => ansible_cli::render(args),
        Command::AnsibleInventory(args) => ansible_cli::inventory(args),
        Command::Ca { file, state_dir } => {
            let inv = load(&file)?;
            let ca = commands::ca(&inv, &local_options(state_dir))?;
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
