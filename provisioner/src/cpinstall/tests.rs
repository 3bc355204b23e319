//! The control plane's install: inventory rules, rendered files, facts and plans.

use std::path::Path;

use super::*;
use crate::facts::InstallFacts;
use crate::inventory::Inventory;
use crate::render::sha256_hex;

/// Two SSH hosts with `extra` appended; `dir` holds the key and the control plane binary.
fn inventory_in(dir: &Path, extra: &str) -> std::result::Result<Inventory, String> {
    std::fs::write(dir.join("id_test"), b"key").unwrap();
    std::fs::write(dir.join("rustfs-controlplane"), b"cp binary").unwrap();
    let text = format!(
        r#"
version: 1
cluster: {{ name: cpi }}
binary: {{ url: "https://example.invalid/rustfs", sha256: "{sha}" }}
ssh: {{ key: id_test }}
hosts:
  - {{ name: n1, address: 10.0.0.1, drives: [/d1, /d2] }}
  - {{ name: n2, address: 10.0.0.2, drives: [/d1, /d2] }}
credentials: {{ user: admin, password: "secret-password" }}
{extra}
"#,
        sha = "a".repeat(64)
    );
    Inventory::from_str_with(&dir.join("inv.yaml"), &text, &|_| None).map_err(|e| e.to_string())
}

const INSTALL: &str = "control_plane: { install: { host: n2, binary: rustfs-controlplane } }";

#[test]
fn install_derives_the_address_and_takes_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory_in(dir.path(), INSTALL).unwrap();
    let cp = inv.control_plane.as_ref().unwrap();
    // It serves HTTPS with a certificate the provisioner issues from the cluster CA.
    assert_eq!(cp.address, "https://10.0.0.2:7070");
    let (install, host) = target(&inv).unwrap();
    assert_eq!(host.name(), "n2");
    assert!(
        Path::new(&install.binary).is_absolute(),
        "{}",
        install.binary
    );

    for (extra, want) in [
        (
            "control_plane: { install: { host: n9, binary: rustfs-controlplane } }",
            "control_plane.install.host: \"n9\" is not the name of a host",
        ),
        (
            "control_plane: { token: t, install: { host: n1, binary: rustfs-controlplane } }",
            "control_plane.token: not with control_plane.install",
        ),
        (
            "control_plane: { install: { host: n1, binary: missing-binary } }",
            "control_plane.install.binary:",
        ),
        (
            "control_plane: { install: { host: n1, binary: rustfs-controlplane, port: 0 } }",
            "control_plane.install.port: must be 1–65535",
        ),
    ] {
        let err = inventory_in(dir.path(), extra).unwrap_err();
        assert!(err.contains(want), "{extra}: {err}");
    }
}

fn desired_for_n2(dir: &Path, extra: &str) -> (Inventory, CpDesired) {
    let inv = inventory_in(dir, &format!("{INSTALL}\n{extra}")).unwrap();
    let (install, host) = target(&inv).unwrap();
    let d = desired(&inv, install, host, &state_in(dir)).unwrap();
    (inv.clone(), d)
}

fn state_in(dir: &Path) -> StateDir {
    StateDir::open(dir.join("state")).unwrap()
}

#[test]
fn an_explicit_address_is_named_by_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory_in(
        dir.path(),
        "control_plane: { address: \"https://cp.example.com:7070\", install: { host: n2, binary: rustfs-controlplane } }",
    )
    .unwrap();
    let names = names(&inv, &inv.hosts[1]);
    assert_eq!(names, vec!["10.0.0.2", "n2", "cp.example.com"]);
    // Plain http to another machine is refused: the provisioner would send it credentials.
    let err = inventory_in(
        dir.path(),
        "control_plane: { address: \"http://10.0.0.2:7070\", install: { host: n2, binary: rustfs-controlplane } }",
    )
    .unwrap_err();
    assert!(err.contains("is plain http to another machine"), "{err}");
}

#[test]
fn rendered_files_point_at_the_data_dir_and_the_unit_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();
    let (inv, d) = desired_for_n2(
        dir.path(),
        &format!("install_dir: {root}/opt\nconfig_dir: {root}/etc\n"),
    );
    assert_eq!(d.binary_sha256, sha256_hex(b"cp binary"));
    assert!(
        d.env
            .contains("RUSTFS_CP_DB='/var/lib/rustfs-controlplane/controlplane.db'"),
        "{}",
        d.env
    );
    assert!(
        d.env.contains("RUSTFS_CP_LISTEN='0.0.0.0:7070'"),
        "{}",
        d.env
    );
    assert!(d
        .ctl
        .contains(&format!("\"{root}/opt/bin/rustfs-controlplane\" serve")));
    assert!(d.ctl.contains("rustfs-controlplane-ctl start|stop|status"));
    for line in [
        format!("RUSTFS_CP_TLS_CERT='{root}/etc/rustfs-controlplane.crt'"),
        format!("RUSTFS_CP_TLS_KEY='{root}/etc/rustfs-controlplane.key'"),
    ] {
        assert!(d.env.contains(&line), "{}", d.env);
    }
    // Its certificate names its host; none is issued while only planning.
    assert_eq!(d.tls_names, vec!["10.0.0.2".to_string(), "n2".to_string()]);
    assert!(d.tls.is_none());
    let paths = CpPaths::of(&inv, &inv.hosts[1]);
    std::fs::create_dir_all(dir.path().join("opt/bin")).unwrap();
    std::os::unix::fs::symlink("/bin/true", &paths.binary).unwrap();
    let unit = dir.path().join("rustfs-controlplane.service");
    std::fs::write(&unit, &d.unit).unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .expect(
            "systemd-analyze is missing: apt-get install systemd (scripts/test.sh installs it)",
        );
    assert!(
        out.status.success(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_local_host_runs_it_on_its_own_address_with_its_own_data() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rustfs-controlplane"), b"cp binary").unwrap();
    let text = format!(
        r#"
version: 1
cluster: {{ name: cpl }}
binary: {{ url: "https://example.invalid/rustfs", sha256: "{sha}" }}
hosts:
  - {{ name: n1, address: 127.0.0.2, connection: local, drives: [/d1, /d2] }}
credentials: {{ user: admin, password: "secret-password" }}
control_plane: {{ install: {{ host: n1, binary: rustfs-controlplane, port: 7171 }} }}
install_dir: /srv/opt
"#,
        sha = "a".repeat(64)
    );
    let inv = Inventory::from_str_with(&dir.path().join("inv.yaml"), &text, &|_| None).unwrap();
    let (install, host) = target(&inv).unwrap();
    let d = desired(&inv, install, host, &state_in(dir.path())).unwrap();
    assert!(
        d.env.contains("RUSTFS_CP_LISTEN='127.0.0.2:7171'"),
        "{}",
        d.env
    );
    assert!(
        d.env
            .contains("RUSTFS_CP_DB='/srv/opt/n1/controlplane/controlplane.db'"),
        "{}",
        d.env
    );
    assert_eq!(inv.control_plane.unwrap().address, "https://127.0.0.2:7171");
}

#[test]
fn facts_are_read_back_and_plans_change_only_what_differs() {
    let dir = tempfile::tempdir().unwrap();
    let (inv, d) = desired_for_n2(dir.path(), "");
    let paths = CpPaths::of(&inv, &inv.hosts[1]);
    let init = InitSystem::Systemd;
    let fresh = parse_facts("cp_binary_sha256=\ncp_config_sha256=\ncp_service_active=0\n");
    assert_eq!(fresh, InstallFacts::default());
    let certificate = CpAction::InstallCertificate {
        path: paths.tls_cert.clone(),
    };
    assert_eq!(
        plan(&paths, init, &fresh, &d),
        vec![
            CpAction::InstallBinary {
                path: paths.binary.clone()
            },
            CpAction::WriteConfig {
                path: paths.env_file.clone()
            },
            certificate.clone(),
            CpAction::InstallService { init },
            CpAction::Start { restart: false },
        ]
    );
    // Once issued (by apply), the certificate is found in the state directory.
    let tls = crate::pki::ensure_tls(
        &state_in(dir.path()),
        "cpi",
        crate::pki::Leaf::ControlPlane,
        &d.tls_names,
    )
    .unwrap();
    let (_, d) = desired_for_n2(dir.path(), "");
    assert_eq!(d.tls.as_ref(), Some(&tls));
    let matching = parse_facts(&format!(
        "cp_binary_sha256={}\ncp_config_sha256={}\ncp_tls_sha256={}\ncp_service_installed=1\ncp_service_sha256={}\ncp_service_active=1\n",
        d.binary_sha256,
        sha256_hex(d.env.as_bytes()),
        sha256_hex(format!("{}{}", tls.cert_pem, tls.key_pem).as_bytes()),
        sha256_hex(d.unit.as_bytes()),
    ));
    assert!(plan(&paths, init, &matching, &d).is_empty());
    // The start script is what counts on a host without systemd.
    assert_eq!(
        plan(&paths, InitSystem::Other, &matching, &d),
        vec![
            CpAction::InstallService {
                init: InitSystem::Other
            },
            CpAction::Start { restart: true },
        ]
    );
    let stopped = InstallFacts {
        service_active: false,
        ..matching.clone()
    };
    assert_eq!(
        plan(&paths, init, &stopped, &d),
        vec![CpAction::Start { restart: false }]
    );
    let old_cert = InstallFacts {
        tls_sha256: Some("0".repeat(64)),
        ..matching.clone()
    };
    assert_eq!(
        plan(&paths, init, &old_cert, &d),
        vec![certificate, CpAction::Start { restart: true }]
    );
    let old_config = InstallFacts {
        config_sha256: Some("0".repeat(64)),
        ..matching
    };
    assert_eq!(
        plan(&paths, init, &old_config, &d),
        vec![
            CpAction::WriteConfig {
                path: paths.env_file.clone()
            },
            CpAction::Start { restart: true },
        ]
    );
}
