//! `rustfs`: parse the command line, set up logging, build the object layer, serve.

use anyhow::Context;
use clap::Parser;
use rustfs_node::config::{parse_address, Cli, Command, LogFormat};
use rustfs_node::server;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let cfg = match cli.command {
        Command::Server(cfg) => cfg,
        Command::Admin(args) => {
            if let Err(e) = rustfs_node::admin_cli::run(args).await {
                eprintln!("rustfs admin: error: {e:#}");
                std::process::exit(1);
            }
            return;
        }
    };
    let filter = EnvFilter::try_from_env("RUSTFS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    match cfg.log_format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(filter)
            .init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init(),
    }
    if let Err(e) = serve(cfg).await {
        eprintln!("rustfs: error: {e:#}");
        std::process::exit(1);
    }
}

async fn serve(cfg: rustfs_node::config::ServerConfig) -> anyhow::Result<()> {
    // Drives, keys and certificates this node creates are its own: directories 0700, files 0600.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let addr = parse_address(&cfg.address).map_err(anyhow::Error::msg)?;
    cfg.heal.validate().map_err(anyhow::Error::msg)?;
    cfg.limits.validate().map_err(anyhow::Error::msg)?;
    cfg.audit.validate().map_err(anyhow::Error::msg)?;
    cfg.oidc.validate().map_err(anyhow::Error::msg)?;
    cfg.ldap.validate().map_err(anyhow::Error::msg)?;
    let oidc = rustfs_node::iam::oidc::Oidc::new(&cfg.oidc)?;
    let ldap = rustfs_node::iam::ldap::Ldap::new(&cfg.ldap)?;
    server::limits::raise_open_files_limit();
    let scrape_auth = cfg.scrape_auth().map_err(anyhow::Error::msg)?;
    rustfs_node::metrics::global().set_auth(scrape_auth);
    server::scrape::register();
    let pools = rustfs_common::endpoint::parse_pools(&cfg.drives)?;
    let distributed = pools[0].endpoints[0].host_port().is_some();
    let tls = match (&cfg.tls_cert, &cfg.tls_key) {
        (Some(cert), Some(key)) => Some(server::tls::load(cert, key, cfg.tls_ca.as_deref())?),
        _ => None,
    };
    if distributed && tls.as_ref().is_some_and(|t| t.client.is_none()) {
        anyhow::bail!("TLS between nodes needs the cluster CA: pass --tls-ca (RUSTFS_TLS_CA) so nodes can check each other's certificates");
    }
    // From here on SIGHUP reloads the root credentials instead of ending the process.
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("cannot handle SIGHUP")?;
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("signal handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down");
    };
    if !distributed {
        let listener = bind(addr).await?;
        server::privileges::drop_to(cfg.run_as.as_deref())?;
        let layer = server::bootstrap::build(&cfg, &pools).await?;
        let first_drive = std::path::Path::new(pools[0].endpoints[0].path());
        let local = listener.local_addr()?;
        let name = if local.ip().is_unspecified() {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
            format!("{}:{}", host.trim(), local.port())
        } else {
            local.to_string()
        };
        rustfs_node::audit::start(&cfg.audit, &name, Some(first_drive))?;
        let (creds, generated) = server::bootstrap::credentials(&layer).await?;
        announce(&listener, &creds, generated, tls.is_some())?;
        let state = server::ServerState::new(
            creds,
            cfg.region.clone(),
            None,
            pools,
            "local".into(),
            tls,
            cfg.limits.clone(),
        );
        state.set_identity_providers(oidc, ldap);
        reload_on_hangup(state.clone(), hangup);
        state.set_layer(layer).await;
        state.start_healing(cfg.heal.clone());
        return server::run(state, listener, shutdown).await;
    }
    // A cluster: serve RPC and health at once, so peers can reach this node while it waits for
    // them; S3 answers 503 until the cluster has formed.
    let creds = rustfs_node::config::credentials_from_env()
        .map_err(anyhow::Error::msg)?
        .context("distributed mode needs RUSTFS_ROOT_USER and RUSTFS_ROOT_PASSWORD (or their _FILE forms), set identically on every node")?;
    rustfs_node::rpc::auth::mark_start();
    let keys = rustfs_node::config::rpc_keys_from_env().map_err(anyhow::Error::msg)?;
    if tls.is_none() {
        tracing::warn!("this cluster runs over plain http://: S3 credentials, data and inter-node calls cross the network unencrypted — use https:// endpoints with --tls-cert, --tls-key and --tls-ca (rustfs-provision does by default)");
    }
    let listener = bind(addr).await?;
    server::privileges::drop_to(cfg.run_as.as_deref())?;
    let part = server::cluster::prepare(pools, addr, keys, tls.as_ref())?;
    rustfs_node::object::dlock::set_this_node(&part.me);
    announce(&listener, &creds, false, tls.is_some())?;
    tracing::info!(node = %part.me, "this node is {}", part.me);
    let state = server::ServerState::new(
        creds,
        cfg.region.clone(),
        Some(part.rpc.clone()),
        part.pools.clone(),
        part.me.clone(),
        tls,
        cfg.limits.clone(),
    );
    if let Some(ip) = cfg.cluster_address {
        server::check_cluster_address(ip, &part.me)?;
        state.set_cluster_address(ip);
    }
    state.set_identity_providers(oidc, ldap);
    reload_on_hangup(state.clone(), hangup);
    let mut serving = tokio::spawn(server::run(state.clone(), listener, shutdown));
    let layer = tokio::select! {
        formed = server::cluster::form(&cfg, &part) => formed?,
        ended = &mut serving => return ended.context("server task")?,
    };
    let first_drive = part
        .pools
        .iter()
        .flat_map(|p| &p.endpoints)
        .find(|e| e.host_port().as_deref() == Some(part.me.as_str()))
        .map(|e| std::path::Path::new(e.path()));
    rustfs_node::audit::start(&cfg.audit, &part.me, first_drive)?;
    state.set_layer(layer).await;
    state.start_healing(cfg.heal.clone());
    if let Some(peers) = part.rpc.peers.get().cloned() {
        tokio::spawn(async move { rustfs_node::object::dlock::announce(&peers).await });
    }
    tracing::info!("serving S3");
    serving.await.context("server task")??;
    // Connections have drained: give back the locks still held (background work's too).
    rustfs_node::object::dlock::release_all(std::time::Duration::from_secs(5)).await;
    Ok(())
}

/// Each SIGHUP (`systemctl reload rustfs`) reads the root credentials again: how the root
/// password is rotated without a restart.
fn reload_on_hangup(
    state: std::sync::Arc<server::ServerState>,
    mut hangup: tokio::signal::unix::Signal,
) {
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            match state.reload_root() {
                Ok(true) => tracing::info!(
                    access_key = %state.root().get().access_key,
                    "SIGHUP: new root credentials in force; the old ones are refused"
                ),
                Ok(false) => tracing::info!(
                    "SIGHUP: root credentials unchanged (only RUSTFS_ROOT_USER_FILE and RUSTFS_ROOT_PASSWORD_FILE can change while the node runs)"
                ),
                Err(e) => tracing::error!(
                    "SIGHUP: keeping the root credentials in force: {e}"
                ),
            }
        }
    });
}

async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} — is another server using it? pick another with --address")
    })
}

fn announce(
    listener: &tokio::net::TcpListener,
    creds: &rustfs_node::config::Credentials,
    generated: bool,
    tls: bool,
) -> anyhow::Result<()> {
    let local = listener.local_addr()?;
    let scheme = if tls { "https" } else { "http" };
    let shown = if local.ip().is_unspecified() {
        format!("{scheme}://127.0.0.1:{}", local.port())
    } else {
        format!("{scheme}://{local}")
    };
    println!("RustFS {} is serving S3", rustfs_common::VERSION);
    println!("  endpoint:   {shown}");
    println!("  access key: {}", creds.access_key);
    if generated {
        println!("  secret key: {}   (generated and stored on the drives; set RUSTFS_ROOT_USER/RUSTFS_ROOT_PASSWORD to choose your own)", creds.secret_key);
    } else {
        println!("  secret key: (from RUSTFS_ROOT_PASSWORD or stored on the drives)");
    }
    println!("  try:        AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY=... aws --endpoint-url {shown} s3 ls", creds.access_key);
    Ok(())
}
