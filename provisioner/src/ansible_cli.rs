//! The binary's `render` and `ansible-inventory` commands (the Ansible path, `ansible/`): thin
//! wrappers over [`rustfs_provision::ansible`] that print JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use rustfs_provision::commands;

#[derive(Debug, Args)]
pub struct RenderArgs {
    file: PathBuf,
    /// Directory to write into [default: STATE_DIR/ansible].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Only this host (repeatable) [default: every host].
    #[arg(long = "host", value_name = "NAME")]
    hosts: Vec<String>,
    #[arg(long, env = "RUSTFS_PROVISION_STATE_DIR")]
    state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    file: PathBuf,
    /// Accepted for Ansible's script protocol; the whole inventory is always printed.
    #[arg(long)]
    list: bool,
}

/// `render`: with `binary.url`, the binary is fetched into the state directory first.
pub fn render(args: RenderArgs) -> anyhow::Result<ExitCode> {
    let mut inv = crate::load(&args.file)?;
    let opts = crate::local_options(args.state_dir);
    crate::runtime()?
        .block_on(commands::fetch_binary(&mut inv, &opts))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let manifest =
        rustfs_provision::ansible::render(&inv, &opts, args.out.as_deref(), &args.hosts)?;
    println!("{}", serde_json::to_string_pretty(&manifest)?);
    Ok(ExitCode::SUCCESS)
}

/// `ansible-inventory`.
pub fn inventory(args: InventoryArgs) -> anyhow::Result<ExitCode> {
    let _ = args.list;
    let inv = crate::load(&args.file)?;
    let json = rustfs_provision::ansible::inventory(&inv, &args.file)?;
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(ExitCode::SUCCESS)
}
