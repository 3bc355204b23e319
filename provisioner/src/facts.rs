//! Facts: what a host has, gathered with one POSIX shell script per host (no agent, no Python).
//! The script prints `key=value` lines; parsing is a pure function so it is unit-tested without a
//! host. Listening ports come from `/proc/net/tcp{,6}`, so `ss`/`netstat` are not needed.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::exec::{shell_quote, HostConn};
use crate::inventory::{Connection, Host, Inventory};
use crate::paths::{deploy_authorized_keys, unit_path, UPGRADE_SUDOERS};

pub use rustfs_hostops::service::{InitSystem, SERVICE_NAME};

/// One drive as the host sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveFacts {
    pub path: String,
    pub exists: bool,
    pub is_dir: bool,
    /// Free bytes on its filesystem (when it is a directory).
    pub free_bytes: Option<u64>,
    /// Holds no entries at all.
    pub empty: bool,
    /// A different filesystem than `/`.
    pub own_filesystem: bool,
    /// `Some(deployment id)` when it has `.rustfs.sys/format.json` (empty string if unreadable).
    pub formatted: Option<String>,
    /// Mode (octal) and owner of the directory, `700 rustfs`, when it is one.
    pub perm: Option<String>,
}

/// What the rustfs install on the host looks like.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallFacts {
    /// sha256 of the binary `bin/current` points to.
    pub current_sha256: Option<String>,
    /// Target of the `bin/current` link.
    pub current_target: Option<String>,
    /// sha256 of the env file, when present.
    pub config_sha256: Option<String>,
    /// The systemd unit or start script exists.
    pub service_installed: bool,
    /// sha256 over the installed CA, node certificate and key.
    pub tls_sha256: Option<String>,
    /// sha256 of the systemd unit or start script.
    pub service_sha256: Option<String>,
    /// sha256 of the installed cluster RPC secret file.
    pub rpc_secret_sha256: Option<String>,
    /// Mode (octal) and owner of that file, `600 rustfs`.
    pub rpc_secret_perm: Option<String>,
    /// sha256 of the installed root password file.
    pub root_password_sha256: Option<String>,
    /// Mode (octal) and owner of that file, `600 rustfs`.
    pub root_password_perm: Option<String>,
    /// The node is running.
    pub service_active: bool,
    /// sha256 of the upgrade verbs script (`bin/rustfs-upgrade`).
    pub upgrade_sha256: Option<String>,
    /// sha256 over the deploy key's sudo rule, authorized_keys and the service user's home and
    /// shell, as [`crate::deploy_key::DeployAccess::sha256`] computes it (SSH hosts).
    pub deploy_sha256: Option<String>,
}

/// Everything gathered from one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub hostname: String,
    pub os: String,
    pub arch: String,
    pub num_cpus: u32,
    pub memory_bytes: u64,
    pub init: InitSystem,
    /// Host clock minus the provisioner's clock (seconds, sampled mid-command).
    pub clock_offset_secs: i64,
    pub drives: Vec<DriveFacts>,
    /// TCP ports something listens on.
    pub listening_ports: BTreeSet<u16>,
    /// TCP sockets something listens on, as (IPv4 address or `*` for any address, port);
    /// IPv6 listeners count as `*`.
    pub listening: BTreeSet<(String, u16)>,
    pub install: InstallFacts,
    /// The installed control plane, on the host `control_plane.install` names.
    pub control_plane: Option<InstallFacts>,
}

/// The facts script for `host`'s drives and paths. `connection: local` hosts always take the
/// start-script path: several nodes share this machine, so none of them is a systemd unit.
pub fn script(inv: &Inventory, host: &Host) -> String {
    let paths = inv.paths(host);
    let drives: Vec<String> = host.drives.iter().map(|d| shell_quote(d)).collect();
    let bin = shell_quote(&paths.current());
    let env = shell_quote(&paths.env_file());
    let start = shell_quote(&paths.ctl());
    let pidfile = shell_quote(&paths.pidfile());
    let tls = shell_quote(&paths.tls_dir());
    let secret = shell_quote(&paths.rpc_secret_file());
    let root_password = shell_quote(&paths.root_password_file());
    let unit = shell_quote(&unit_path());
    let upgrade = shell_quote(&paths.upgrade_helper());
    let deploy = match host.connection {
        Connection::Ssh => format!(
            r#"echo "deploy_sha256=$({{ cat {sudoers} 2>/dev/null; echo --; cat {keys} 2>/dev/null; echo --; getent passwd {user} | cut -d: -f6,7; }} | sha256sum | cut -d' ' -f1)""#,
            sudoers = shell_quote(UPGRADE_SUDOERS),
            keys = shell_quote(&deploy_authorized_keys()),
            user = crate::render::SERVICE_USER,
        ),
        Connection::Local => String::new(),
    };
    let systemd_test = match host.connection {
        Connection::Ssh => "[ -d /run/systemd/system ]",
        Connection::Local => "false",
    };
    format!(
        r#"LC_ALL=C; export LC_ALL
. /etc/os-release 2>/dev/null
echo "os=${{ID:-unknown}} ${{VERSION_ID:-}}"
echo "arch=$(uname -m)"
echo "hostname=$(cat /proc/sys/kernel/hostname 2>/dev/null)"
echo "cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null || echo 0)"
echo "mem_kb=$(awk '/^MemTotal:/ {{print $2}}' /proc/meminfo)"
if {systemd_test}; then echo init=systemd; else echo init=other; fi
echo "clock=$(date +%s)"
root_dev=$(stat -c %d /)
i=0
for d in {drives}; do
  e=0; dir=0; free=; empty=0; own=0; fmt=-; perm=
  [ -e "$d" ] && e=1
  if [ -d "$d" ]; then
    dir=1
    perm=$(stat -c '%a %U' "$d")
    free=$(df -Pk "$d" 2>/dev/null | awk 'NR==2 {{print $4}}')
    [ -z "$(ls -A "$d" 2>/dev/null | head -n 1)" ] && empty=1
    [ "$(stat -c %d "$d")" != "$root_dev" ] && own=1
    if [ -f "$d/.rustfs.sys/format.json" ]; then
      fmt=$(tr -d ' \n\t' < "$d/.rustfs.sys/format.json" | grep -o '"deployment_id":"[^"]*"' | cut -d'"' -f4)
      [ -n "$fmt" ] || fmt=?
    fi
  fi
  echo "drive=$i|$e|$dir|$free|$empty|$own|$fmt|$perm"
  i=$((i+1))
done
awk '$4 == "0A" {{print "listen=" $2}}' /proc/net/tcp 2>/dev/null
awk '$4 == "0A" {{print "listen6=" $2}}' /proc/net/tcp6 2>/dev/null
if [ -e {bin} ]; then
  echo "current_target=$(readlink {bin})"
  echo "current_sha256=$(sha256sum {bin} | cut -d' ' -f1)"
fi
[ -f {env} ] && echo "config_sha256=$(sha256sum {env} | cut -d' ' -f1)"
if [ -f {secret} ]; then
  echo "rpc_secret_sha256=$(sha256sum {secret} | cut -d' ' -f1)"
  echo "rpc_secret_perm=$(stat -c '%a %U' {secret})"
fi
if [ -f {root_password} ]; then
  echo "root_password_sha256=$(sha256sum {root_password} | cut -d' ' -f1)"
  echo "root_password_perm=$(stat -c '%a %U' {root_password})"
fi
if [ -f {tls}/ca.crt ] && [ -f {tls}/node.crt ] && [ -f {tls}/node.key ]; then
  echo "tls_sha256=$(cat {tls}/ca.crt {tls}/node.crt {tls}/node.key | sha256sum | cut -d' ' -f1)"
fi
if {systemd_test}; then
  if [ -f {unit} ]; then
    echo service_installed=1
    echo "service_sha256=$(sha256sum {unit} | cut -d' ' -f1)"
  fi
  systemctl is-active --quiet {SERVICE_NAME} 2>/dev/null && echo service_active=1
else
  if [ -x {start} ]; then
    echo service_installed=1
    echo "service_sha256=$(sha256sum {start} | cut -d' ' -f1)"
  fi
  [ -f {pidfile} ] && kill -0 "$(cat {pidfile})" 2>/dev/null && echo service_active=1
fi
[ -f {upgrade} ] && echo "upgrade_sha256=$(sha256sum {upgrade} | cut -d' ' -f1)"
{deploy}
echo end=1
"#,
        drives = drives.join(" "),
    )
}

/// The deployment id on each of `host`'s drives (`None` where a drive is not formatted): a
/// cheaper probe than [`gather`] for after the first start.
pub async fn deployment_ids(conn: &HostConn, host: &Host) -> Result<Vec<Option<String>>> {
    let drives: Vec<String> = host.drives.iter().map(|d| shell_quote(d)).collect();
    let script = format!(
        r#"for d in {}; do
  f="$d/.rustfs.sys/format.json"
  if [ -f "$f" ]; then echo "id=$(tr -d ' \n\t' < "$f" | grep -o '"deployment_id":"[^"]*"' | cut -d'"' -f4)"; else echo id=; fi
done"#,
        drives.join(" ")
    );
    let out = conn
        .run_checked("reading the drives' format", &script)
        .await?;
    let ids: Vec<Option<String>> = out
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("id="))
        .map(|id| (!id.is_empty()).then(|| id.to_string()))
        .collect();
    if ids.len() != host.drives.len() {
        return Err(Error::host(
            &conn.label,
            format!(
                "expected {} drive reports, got {}",
                host.drives.len(),
                ids.len()
            ),
        ));
    }
    Ok(ids)
}

fn now_secs_f64() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Gathers the facts of `host` over `conn`.
pub async fn gather(conn: &HostConn, inv: &Inventory, host: &Host) -> Result<Facts> {
    let started = now_secs_f64();
    let out = conn
        .run_checked("gathering facts", &script(inv, host))
        .await?;
    let midpoint = (started + now_secs_f64()) / 2.0;
    let mut facts = parse(&out.stdout, &host.drives, midpoint)
        .map_err(|m| Error::host(&conn.label, format!("cannot read the facts: {m}")))?;
    if crate::cpinstall::target(inv).is_some_and(|(_, h)| h.name() == host.name()) {
        let out = conn
            .run_checked(
                "gathering the control plane's facts",
                &crate::cpinstall::facts_script(inv, host),
            )
            .await?;
        facts.control_plane = Some(crate::cpinstall::parse_facts(&out.stdout));
    }
    Ok(facts)
}

/// Parses the facts script's output. `local_secs` is the provisioner's clock mid-command.
pub fn parse(text: &str, drives: &[String], local_secs: f64) -> std::result::Result<Facts, String> {
    let mut f = Facts {
        hostname: String::new(),
        os: String::new(),
        arch: String::new(),
        num_cpus: 0,
        memory_bytes: 0,
        init: InitSystem::Other,
        clock_offset_secs: 0,
        drives: Vec::new(),
        listening_ports: BTreeSet::new(),
        listening: BTreeSet::new(),
        install: InstallFacts::default(),
        control_plane: None,
    };
    let mut complete = false;
    let mut clock = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        match key {
            "os" => f.os = value.trim().to_string(),
            "arch" => f.arch = value.to_string(),
            "hostname" => f.hostname = value.to_string(),
            "cpus" => f.num_cpus = value.parse().map_err(|_| format!("bad cpus {value:?}"))?,
            "mem_kb" => {
                let kb: u64 = value.parse().map_err(|_| format!("bad mem_kb {value:?}"))?;
                f.memory_bytes = kb * 1024;
            }
            "init" => {
                f.init = if value == "systemd" {
                    InitSystem::Systemd
                } else {
                    InitSystem::Other
                }
            }
            "clock" => {
                let secs: i64 = value.parse().map_err(|_| format!("bad clock {value:?}"))?;
                clock = Some(secs);
            }
            "drive" => f.drives.push(parse_drive(value, drives)?),
            "listen" | "listen6" => {
                if let Some((ip, port)) = value.rsplit_once(':') {
                    if let Ok(port) = u16::from_str_radix(port, 16) {
                        f.listening_ports.insert(port);
                        f.listening.insert((listen_ip(key == "listen6", ip), port));
                    }
                }
            }
            "current_target" => f.install.current_target = Some(value.to_string()),
            "current_sha256" => f.install.current_sha256 = Some(value.to_string()),
            "config_sha256" => f.install.config_sha256 = Some(value.to_string()),
            "tls_sha256" => f.install.tls_sha256 = Some(value.to_string()),
            "rpc_secret_sha256" => f.install.rpc_secret_sha256 = Some(value.to_string()),
            "rpc_secret_perm" => f.install.rpc_secret_perm = Some(value.to_string()),
            "root_password_sha256" => f.install.root_password_sha256 = Some(value.to_string()),
            "root_password_perm" => f.install.root_password_perm = Some(value.to_string()),
            "service_installed" => f.install.service_installed = value == "1",
            "service_sha256" => f.install.service_sha256 = Some(value.to_string()),
            "service_active" => f.install.service_active = value == "1",
            "upgrade_sha256" => f.install.upgrade_sha256 = Some(value.to_string()),
            "deploy_sha256" => f.install.deploy_sha256 = Some(value.to_string()),
            "end" => complete = true,
            _ => {}
        }
    }
    if !complete {
        return Err("the facts script output is truncated".into());
    }
    let clock = clock.ok_or("no clock reading")?;
    // `date +%s` truncates: the host's true time lies in [clock, clock + 1).
    f.clock_offset_secs = (clock as f64 + 0.5 - local_secs).round() as i64;
    if f.drives.len() != drives.len() {
        return Err(format!(
            "expected {} drive reports, got {}",
            drives.len(),
            f.drives.len()
        ));
    }
    Ok(f)
}

/// `/proc/net/tcp`'s little-endian hex IPv4 address as dotted decimal; `*` for the wildcard
/// address and for IPv6.
fn listen_ip(v6: bool, hex: &str) -> String {
    match u32::from_str_radix(hex, 16) {
        Ok(0) | Err(_) => "*".into(),
        Ok(_) if v6 => "*".into(),
        Ok(n) => std::net::Ipv4Addr::from(n.swap_bytes()).to_string(),
    }
}

fn parse_drive(value: &str, drives: &[String]) -> std::result::Result<DriveFacts, String> {
    let parts: Vec<&str> = value.split('|').collect();
    let [idx, exists, dir, free, empty, own, fmt, perm] = parts[..] else {
        return Err(format!("bad drive line {value:?}"));
    };
    let idx: usize = idx
        .parse()
        .map_err(|_| format!("bad drive index {idx:?}"))?;
    let path = drives
        .get(idx)
        .ok_or_else(|| format!("drive index {idx} out of range"))?
        .clone();
    Ok(DriveFacts {
        path,
        exists: exists == "1",
        is_dir: dir == "1",
        free_bytes: free.parse::<u64>().ok().map(|kb| kb * 1024),
        empty: empty == "1",
        own_filesystem: own == "1",
        formatted: match fmt {
            "-" => None,
            "?" => Some(String::new()),
            id => Some(id.to_string()),
        },
        perm: (!perm.is_empty()).then(|| perm.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "os=debian 12\narch=x86_64\nhostname=n1\ncpus=4\nmem_kb=16384000\n\
init=systemd\nclock=1000\ndrive=0|1|1|2048|1|0|-|755 root\ndrive=1|1|1|4096|0|1|7f3e|700 rustfs\n\
drive=2|0|0||0|0|-|\nlisten=00000000:0016\nlisten=0100007F:2328\n\
current_target=/opt/rustfs/bin/rustfs-1.0\ncurrent_sha256=abc\nservice_installed=1\n\
rpc_secret_sha256=def\nrpc_secret_perm=600 rustfs\nend=1\n";

    #[test]
    fn parses_a_full_report() {
        let drives: Vec<String> = ["/d1", "/d2", "/d3"].map(String::from).to_vec();
        let f = parse(SAMPLE, &drives, 990.4).unwrap();
        assert_eq!(f.os, "debian 12");
        assert_eq!(f.num_cpus, 4);
        assert_eq!(f.memory_bytes, 16_384_000 * 1024);
        assert_eq!(f.init, InitSystem::Systemd);
        assert_eq!(f.clock_offset_secs, 10);
        assert_eq!(f.listening_ports, BTreeSet::from([22, 9000]));
        assert!(f.listening.contains(&("*".to_string(), 22)));
        assert!(f.listening.contains(&("127.0.0.1".to_string(), 9000)));
        assert_eq!(f.drives[0].free_bytes, Some(2048 * 1024));
        assert!(f.drives[0].empty && f.drives[0].formatted.is_none());
        assert_eq!(f.drives[1].formatted.as_deref(), Some("7f3e"));
        assert!(f.drives[1].own_filesystem);
        assert_eq!(f.drives[0].perm.as_deref(), Some("755 root"));
        assert_eq!(f.drives[1].perm.as_deref(), Some("700 rustfs"));
        assert!(!f.drives[2].exists && f.drives[2].perm.is_none());
        assert_eq!(f.install.rpc_secret_sha256.as_deref(), Some("def"));
        assert_eq!(f.install.rpc_secret_perm.as_deref(), Some("600 rustfs"));
        assert_eq!(f.install.current_sha256.as_deref(), Some("abc"));
        assert!(f.install.service_installed && !f.install.service_active);
    }

    #[test]
    fn truncated_output_is_an_error() {
        let cut = SAMPLE.replace("end=1\n", "");
        let drives: Vec<String> = ["/d1", "/d2", "/d3"].map(String::from).to_vec();
        assert!(parse(&cut, &drives, 0.0).unwrap_err().contains("truncated"));
        assert!(parse(SAMPLE, &drives[..2], 0.0).is_err());
    }
}
