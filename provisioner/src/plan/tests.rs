//! Plan diffs: a bare host gets the full install, a matching host gets nothing, changes restart.

use std::collections::BTreeSet;
use std::path::Path;

use super::*;
use crate::checks::{check_cluster, check_host};
use crate::facts::{DriveFacts, InstallFacts};

const SHA: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn inventory() -> Inventory {
    let text = format!(
        r#"
version: 1
cluster: {{ name: t }}
binary: {{ url: "https://example.invalid/rustfs", sha256: "{SHA}" }}
hosts:
  - {{ name: a, address: 127.0.0.2, connection: local, drives: [/d1, /d2] }}
  - {{ name: b, address: 127.0.0.3, connection: local, drives: [/d1, /d2] }}
credentials: {{ user: admin, password: password123 }}
"#
    );
    Inventory::from_str_with(Path::new("inv.yaml"), &text, &|_| None).unwrap()
}

fn drive(path: &str, empty: bool, formatted: Option<&str>) -> DriveFacts {
    DriveFacts {
        path: path.into(),
        exists: true,
        is_dir: true,
        free_bytes: Some(100 << 30),
        empty,
        own_filesystem: true,
        formatted: formatted.map(String::from),
        perm: Some("700 root".into()),
    }
}

/// The kept RPC secret the tests' hosts hold.
const SECRET: &str = "0123456789abcdef0123456789abcdef\n";

/// What the inventory wants, with the RPC secret made.
fn want(inv: &Inventory, binary_sha256: String) -> Desired {
    Desired {
        rpc_secret: Secret::new(SECRET),
        ..Desired::new(inv, binary_sha256)
    }
}

fn bare() -> Facts {
    Facts {
        hostname: "a".into(),
        os: "debian 12".into(),
        arch: "x86_64".into(),
        num_cpus: 4,
        memory_bytes: 16 << 30,
        init: InitSystem::Systemd,
        clock_offset_secs: 0,
        drives: vec![drive("/d1", true, None), drive("/d2", true, None)],
        listening_ports: BTreeSet::from([22]),
        listening: BTreeSet::from([("*".to_string(), 22)]),
        install: InstallFacts::default(),
        control_plane: None,
    }
}

fn installed() -> Facts {
    Facts {
        drives: vec![
            drive("/d1", false, Some("dep")),
            drive("/d2", false, Some("dep")),
        ],
        listening_ports: BTreeSet::from([22, 9000, 9001]),
        listening: BTreeSet::from([
            ("*".to_string(), 22),
            ("127.0.0.2".to_string(), 9000),
            ("127.0.0.2".to_string(), 9001),
        ]),
        install: InstallFacts {
            current_sha256: Some(SHA.into()),
            current_target: Some("/opt/rustfs/a/bin/rustfs-aaaaaaaaaaaa".into()),
            config_sha256: Some("c0".into()),
            service_installed: true,
            service_sha256: Some("s0".into()),
            tls_sha256: None,
            service_active: true,
            rpc_secret_sha256: Some(crate::render::sha256_hex(SECRET.as_bytes())),
            rpc_secret_perm: Some("600 root".into()),
            root_password_sha256: Some(crate::render::sha256_hex(b"password123")),
            root_password_perm: Some("600 root".into()),
            upgrade_sha256: None,
            deploy_sha256: None,
        },
        ..bare()
    }
}

#[test]
fn bare_host_gets_the_full_install() {
    let inv = inventory();
    let desired = want(&inv, SHA.into());
    assert_eq!(desired.version, "aaaaaaaaaaaa");
    assert_eq!(
        Desired::new(&inv, SHA.into()).rpc_secret.expose(),
        crate::rpc_secret::UNISSUED_SECRET
    );
    let actions = plan_host(&inv, &inv.hosts[0], &bare(), &desired);
    assert_eq!(
        actions,
        vec![
            Action::InstallBinary {
                path: "/opt/rustfs/a/bin/rustfs-aaaaaaaaaaaa".into(),
                replaces: None
            },
            Action::WriteConfig {
                path: "/etc/rustfs/a/rustfs.env".into(),
                exists: false
            },
            Action::InstallRpcSecret {
                path: "/etc/rustfs/a/rpc.secret".into()
            },
            Action::InstallRootPassword {
                path: "/etc/rustfs/a/root.password".into()
            },
            Action::InstallService {
                init: InitSystem::Systemd
            },
            Action::FormatDrives {
                paths: vec!["/d1".into(), "/d2".into()]
            },
            Action::StartService { restart: false },
        ]
    );
}

#[test]
fn matching_host_has_no_changes() {
    let inv = inventory();
    let desired = Desired {
        config_sha256: Some("c0".into()),
        ..want(&inv, SHA.into())
    };
    assert!(plan_host(&inv, &inv.hosts[0], &installed(), &desired).is_empty());
    let plan = Plan {
        hosts: vec![HostPlan {
            host: "a".into(),
            address: "127.0.0.2".into(),
            summary: summarize(&installed()),
            actions: Vec::new(),
            findings: check_host(
                &inv,
                &inv.hosts[0],
                &installed(),
                Some("dep"),
                Some("x86_64"),
            ),
        }],
        findings: Vec::new(),
    };
    assert_eq!(plan.num_changes(), 0);
    assert!(!plan.has_errors(), "{plan}");
    assert!(plan.to_string().ends_with("plan: no changes"));
}

#[test]
fn new_binary_or_config_restarts_and_keeps_the_old_binary() {
    let inv = inventory();
    let desired = Desired {
        config_sha256: Some("c1".into()),
        ..want(&inv, "b".repeat(64))
    };
    let actions = plan_host(&inv, &inv.hosts[0], &installed(), &desired);
    assert_eq!(
        actions,
        vec![
            Action::InstallBinary {
                path: "/opt/rustfs/a/bin/rustfs-bbbbbbbbbbbb".into(),
                replaces: Some("/opt/rustfs/a/bin/rustfs-aaaaaaaaaaaa".into())
            },
            Action::WriteConfig {
                path: "/etc/rustfs/a/rustfs.env".into(),
                exists: true
            },
            Action::StartService { restart: true },
        ]
    );
}

#[test]
fn host_checks_refuse_what_cannot_work() {
    let inv = inventory();
    let mut f = bare();
    f.memory_bytes = 256 << 20;
    f.arch = "aarch64".into();
    f.drives[0] = drive("/d1", false, None);
    f.drives[1] = drive("/d2", false, Some("other-deployment"));
    f.listening_ports.insert(9001);
    f.listening.insert(("*".into(), 9001));
    // Local hosts share the machine: a node on another loopback address is no conflict.
    f.listening.insert(("127.0.0.9".into(), 9000));
    let msgs: Vec<String> = check_host(&inv, &inv.hosts[0], &f, None, Some("x86_64"))
        .iter()
        .map(|x| x.to_string())
        .collect();
    let want = [
        "error: host is aarch64 but the rustfs binary is built for x86_64",
        "error: only 0.2 GiB of memory",
        "error: drive /d1 is not empty and not a rustfs drive",
        "error: drive /d2 belongs to deployment other-deployment — refusing to format it",
        "error: port 9001 is already in use — stop what listens there or change ports.console",
    ];
    for w in want {
        assert!(
            msgs.iter().any(|m| m.starts_with(w)),
            "{w:?} not in {msgs:#?}"
        );
    }
    assert!(!msgs.iter().any(|m| m.contains("port 9000")), "{msgs:#?}");
    f.memory_bytes = 4 << 30;
    let msgs = check_host(&inv, &inv.hosts[0], &f, None, None);
    assert!(msgs.iter().any(|m| m
        .to_string()
        .starts_with("warning: 4.0 GiB of memory is below")));
}

#[test]
fn local_hosts_get_missing_drives_made_and_their_own_directories() {
    let inv = inventory();
    let desired = want(&inv, SHA.into());
    let mut f = bare();
    f.drives[1].exists = false;
    f.drives[1].is_dir = false;
    f.drives[1].empty = false;
    let actions = plan_host(&inv, &inv.hosts[1], &f, &desired);
    assert!(actions.contains(&Action::CreateDrives {
        paths: vec!["/d2".into()]
    }));
    assert!(actions.contains(&Action::FormatDrives {
        paths: vec!["/d1".into(), "/d2".into()]
    }));
    assert!(actions.contains(&Action::InstallBinary {
        path: "/opt/rustfs/b/bin/rustfs-aaaaaaaaaaaa".into(),
        replaces: None
    }));
    let errors: Vec<_> = check_host(&inv, &inv.hosts[1], &f, None, None)
        .into_iter()
        .filter(|x| x.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn clock_skew_over_30s_is_an_error() {
    let a = bare();
    let b = Facts {
        clock_offset_secs: 31,
        ..bare()
    };
    let c = Facts {
        clock_offset_secs: 30,
        ..bare()
    };
    assert!(check_cluster(&[("a", &a), ("c", &c)]).is_empty());
    let f = check_cluster(&[("a", &a), ("b", &b), ("c", &c)]);
    assert_eq!(f.len(), 1);
    assert!(f[0].message.starts_with("clocks of b and a differ by 31s"));
}

#[test]
fn changed_service_definition_is_reinstalled_and_restarted() {
    let inv = inventory();
    let desired = Desired {
        config_sha256: Some("c0".into()),
        service_sha256: Some("s1".into()),
        ..want(&inv, SHA.into())
    };
    assert_eq!(
        plan_host(&inv, &inv.hosts[0], &installed(), &desired),
        vec![
            Action::InstallService {
                init: InitSystem::Systemd
            },
            Action::StartService { restart: true },
        ]
    );
}

#[test]
fn tls_certificates_are_installed_until_they_match() {
    let inv = inventory();
    let mut desired = Desired {
        config_sha256: Some("c0".into()),
        tls_sha256: Some(UNISSUED.into()),
        ..want(&inv, SHA.into())
    };
    let tls = Action::InstallCertificates {
        dir: "/etc/rustfs/a/tls".into(),
    };
    assert_eq!(
        plan_host(&inv, &inv.hosts[0], &installed(), &desired),
        vec![tls.clone(), Action::StartService { restart: true }]
    );
    let mut host = installed();
    host.install.tls_sha256 = Some("t0".into());
    desired.tls_sha256 = Some("t0".into());
    assert!(plan_host(&inv, &inv.hosts[0], &host, &desired).is_empty());
}

/// The same two hosts reached over SSH (a key file must exist for validation).
fn ssh_inventory(key: &Path) -> Inventory {
    let text = format!(
        r#"
version: 1
cluster: {{ name: t }}
binary: {{ url: "https://example.invalid/rustfs", sha256: "{SHA}" }}
ssh: {{ key: "{key}" }}
hosts:
  - {{ name: a, address: 10.0.0.2, drives: [/d1, /d2] }}
  - {{ name: b, address: 10.0.0.3, drives: [/d1, /d2] }}
credentials: {{ user: admin, password: password123 }}
"#,
        key = key.display()
    );
    Inventory::from_str_with(Path::new("inv.yaml"), &text, &|_| None).unwrap()
}

#[test]
fn a_changed_rpc_secret_is_installed_and_restarts_the_node() {
    let inv = inventory();
    let mut desired = Desired {
        config_sha256: Some("c0".into()),
        ..want(&inv, SHA.into())
    };
    desired.rpc_secret = Secret::new(format!("{}\n{SECRET}", "f".repeat(64)));
    assert_eq!(
        plan_host(&inv, &inv.hosts[0], &installed(), &desired),
        vec![
            Action::InstallRpcSecret {
                path: "/etc/rustfs/a/rpc.secret".into()
            },
            Action::StartService { restart: true },
        ]
    );
    // Before the secret is made, planning shows it pending.
    desired.rpc_secret = Desired::new(&inv, SHA.into()).rpc_secret;
    assert!(plan_host(&inv, &inv.hosts[0], &installed(), &desired)
        .contains(&Action::StartService { restart: true }));
}

#[test]
fn loose_permissions_are_fixed_without_a_restart() {
    let key = tempfile::NamedTempFile::new().unwrap();
    let local = inventory();
    let ssh = ssh_inventory(key.path());
    for inv in [&local, &ssh] {
        let desired = Desired {
            config_sha256: Some("c0".into()),
            ..want(inv, SHA.into())
        };
        let mut host = installed();
        host.install.rpc_secret_perm = Some("600 rustfs".into());
        host.install.root_password_perm = Some("600 rustfs".into());
        host.drives[0].perm = Some("700 rustfs".into());
        host.drives[1].perm = Some("700 rustfs".into());
        assert!(
            plan_host(inv, &inv.hosts[0], &host, &desired).is_empty(),
            "{:?}",
            inv.hosts[0].connection
        );
        // A secret others may read and a drive others may list are made private again; the
        // running node keeps running (nothing it reads changed).
        host.install.rpc_secret_perm = Some("644 rustfs".into());
        host.drives[1].perm = Some("755 rustfs".into());
        let secret = match inv.hosts[0].connection {
            Connection::Local => "/etc/rustfs/a/rpc.secret",
            Connection::Ssh => "/etc/rustfs/rpc.secret",
        };
        assert_eq!(
            plan_host(inv, &inv.hosts[0], &host, &desired),
            vec![
                Action::InstallRpcSecret {
                    path: secret.into()
                },
                Action::SecureDrives {
                    paths: vec!["/d2".into()]
                },
            ]
        );
    }
    // On SSH hosts the node's user must own them too; a local node runs as whoever runs the
    // provisioner, so there only the mode counts.
    let desired = Desired {
        config_sha256: Some("c0".into()),
        ..want(&ssh, SHA.into())
    };
    let host = installed();
    assert_eq!(
        plan_host(&ssh, &ssh.hosts[0], &host, &desired),
        vec![
            Action::InstallRpcSecret {
                path: "/etc/rustfs/rpc.secret".into()
            },
            Action::InstallRootPassword {
                path: "/etc/rustfs/root.password".into()
            },
            Action::SecureDrives {
                paths: vec!["/d1".into(), "/d2".into()]
            },
        ]
    );
    assert!(plan_host(&local, &local.hosts[0], &host, &desired).is_empty());
}

#[test]
fn a_new_root_password_is_installed_and_reloaded_not_restarted() {
    let mut inv = inventory();
    inv.credentials.password = Some(Secret::new("a-new-password-456"));
    let desired = want(&inv, SHA.into());
    let mut facts = installed();
    facts.install.config_sha256 = None;
    let actions = plan_host(&inv, &inv.hosts[0], &installed(), &desired);
    let install = Action::InstallRootPassword {
        path: "/etc/rustfs/a/root.password".into(),
    };
    assert!(actions.contains(&install), "{actions:?}");
    assert_eq!(actions.last(), Some(&Action::ReloadService), "{actions:?}");
    assert!(!actions
        .iter()
        .any(|a| matches!(a, Action::StartService { .. })));
    // With a restart due anyway, the restart reads the new password: no reload.
    let actions = plan_host(&inv, &inv.hosts[0], &facts, &desired);
    assert!(actions.contains(&install));
    assert!(actions.contains(&Action::StartService { restart: true }));
    assert!(!actions.contains(&Action::ReloadService));
    // A node that is not running is started, not reloaded.
    let mut stopped = installed();
    stopped.install.service_active = false;
    let actions = plan_host(&inv, &inv.hosts[0], &stopped, &desired);
    assert!(!actions.contains(&Action::ReloadService));
}

#[test]
fn the_upgrade_verbs_and_the_deploy_key_are_installed_once_and_need_no_restart() {
    let inv = inventory();
    let desired = Desired {
        upgrade_sha256: Some("u1".into()),
        deploy_sha256: Some("k1".into()),
        ..want(&inv, SHA.into())
    };
    let mut facts = installed();
    let actions = plan_host(&inv, &inv.hosts[0], &facts, &desired);
    assert!(
        actions
            .iter()
            .all(|a| a.is_configure() && !matches!(a, Action::StartService { .. })),
        "{actions:?}"
    );
    assert!(actions.contains(&Action::InstallDeployKey), "{actions:?}");
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::InstallUpgradeHelper { path } if path.ends_with("/bin/rustfs-upgrade"))),
        "{actions:?}"
    );
    facts.install.upgrade_sha256 = Some("u1".into());
    facts.install.deploy_sha256 = Some("k1".into());
    let desired = Desired {
        config_sha256: Some("c0".into()),
        service_sha256: Some("s0".into()),
        ..desired
    };
    assert_eq!(plan_host(&inv, &inv.hosts[0], &facts, &desired), vec![]);
}
