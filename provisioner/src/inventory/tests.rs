//! Inventory parsing and validation: a good inventory, then a table of broken ones with the
//! field-path errors each must produce.

use std::path::{Path, PathBuf};

use super::*;

struct Fixture {
    _dir: tempfile::TempDir,
    inventory: PathBuf,
}

/// A directory holding a fake binary, an SSH key and a password file, so local-path checks pass.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rustfs"), b"binary").unwrap();
    std::fs::write(dir.path().join("id_test"), b"key").unwrap();
    std::fs::write(dir.path().join("pw"), b"supersecret\n").unwrap();
    let inventory = dir.path().join("inventory.yaml");
    Fixture {
        _dir: dir,
        inventory,
    }
}

const GOOD: &str = r#"
version: 1
cluster:
  name: test-eu1
binary:
  path: ./rustfs
ssh:
  user: root
  key: id_test
hosts:
  - { name: n1, address: 10.9.0.1, drives: [/d1, /d2] }
  - { name: n2, address: 10.9.0.2, drives: [/d1, /d2] }
  - { name: n3, address: 10.9.0.3, drives: [/d1, /d2] }
  - { name: n4, address: 10.9.0.4, drives: [/d1, /d2] }
storage_class: EC:2
ports: { s3: 9000, console: 9001 }
credentials:
  user: ${ROOT_USER}
  password_file: pw
tls: { enabled: true }
"#;

fn env(name: &str) -> Option<String> {
    (name == "ROOT_USER").then(|| "admin".to_string())
}

fn load(f: &Fixture, text: &str) -> Result<Inventory> {
    Inventory::from_str_with(&f.inventory, text, &env)
}

fn errors_of(f: &Fixture, text: &str) -> Vec<String> {
    match load(f, text) {
        Ok(_) => Vec::new(),
        Err(Error::Invalid { errors, .. }) => errors.0.iter().map(|e| e.to_string()).collect(),
        Err(other) => vec![other.to_string()],
    }
}

#[test]
fn good_inventory_loads_and_resolves() {
    let f = fixture();
    let inv = load(&f, GOOD).unwrap();
    assert_eq!(inv.cluster.name, "test-eu1");
    assert_eq!(inv.hosts.len(), 4);
    assert_eq!(inv.pool_hosts(), vec![vec![0, 1, 2, 3]]);
    let dir = f.inventory.parent().unwrap();
    assert_eq!(
        inv.binary.path.as_deref(),
        Some(dir.join("./rustfs").to_str().unwrap())
    );
    assert_eq!(inv.credentials.user.as_ref().unwrap().expose(), "admin");
    assert_eq!(
        inv.credentials.password.as_ref().unwrap().expose(),
        "supersecret"
    );
    let t = inv.ssh_target(&inv.hosts[1]);
    assert_eq!(t.address, "10.9.0.2");
    assert_eq!(t.port, 22);
    assert_eq!(t.user, "root");
    assert_eq!(t.key_path, dir.join("id_test"));
}

#[test]
fn debug_never_shows_secrets() {
    let f = fixture();
    let inv = load(&f, GOOD).unwrap();
    let dbg = format!("{inv:?}");
    assert!(!dbg.contains("supersecret"), "{dbg}");
    assert!(!dbg.contains("admin"), "{dbg}");
    assert!(dbg.contains("redacted"));
}

/// (description, replacements applied to GOOD, expected error lines (each must appear)).
#[allow(clippy::type_complexity)]
const BROKEN: &[(&str, &[(&str, &str)], &[&str])] = &[
    (
        "relative drive",
        &[("address: 10.9.0.3, drives: [/d1, /d2]", "address: 10.9.0.3, drives: [data1, /d2]")],
        &["hosts[2].drives[0]: must be an absolute path"],
    ),
    (
        "duplicate address",
        &[("address: 10.9.0.4", "address: 10.9.0.1")],
        &["hosts[3].address: duplicate address 10.9.0.1 (also hosts[0])"],
    ),
    (
        "uneven drives per host",
        &[("address: 10.9.0.2, drives: [/d1, /d2]", "address: 10.9.0.2, drives: [/d1, /d2, /d3]")],
        &["hosts[1].drives: 3 drive(s), but n1 has 2"],
    ),
    (
        "port out of range and equal ports",
        &[("s3: 9000, console: 9001", "s3: 70000, console: 70000")],
        &[
            "ports.s3: 70000 is out of range 1..=65535",
            "ports.console: 70000 is out of range 1..=65535",
            "ports.console: must differ from ports.s3",
        ],
    ),
    (
        "parity above half the set",
        &[("EC:2", "EC:3")],
        &["storage_class: EC:3 exceeds half of the erasure sets of 4 drives in the pool (at most EC:2)"],
    ),
    (
        "malformed storage class",
        &[("EC:2", "RAID5")],
        &["storage_class: must be EC:N"],
    ),
    (
        "unset env var",
        &[("${ROOT_USER}", "${NOT_SET_ANYWHERE}")],
        &["credentials.user: environment variable NOT_SET_ANYWHERE is not set"],
    ),
    (
        "unknown field",
        &[("tls: { enabled: true }", "tls: { enabled: true, cert: x }")],
        &["tls.cert: unknown field `cert`, expected `enabled`"],
    ),
    (
        "wrong type names the field",
        &[("name: n2, address: 10.9.0.2,", "name: n2, address: 10.9.0.2, ssh: { port: abc },")],
        &["hosts[1].ssh.port: invalid type"],
    ),
    (
        "bad version",
        &[("version: 1", "version: 2")],
        &["version: unsupported inventory version 2"],
    ),
    (
        "bad fingerprint",
        &[("name: n4, address: 10.9.0.4,", "name: n4, address: 10.9.0.4, ssh: { host_key: 'MD5:aa' },")],
        &["hosts[3].ssh.host_key: must be a SHA256 fingerprint"],
    ),
    (
        "both secret forms",
        &[("password_file: pw", "password_file: pw\n  password: hunter2hunter2")],
        &["credentials.password: set password or password_file, not both"],
    ),
    (
        "missing binary and key",
        &[("path: ./rustfs", "path: ./nope"), ("key: id_test", "key: no_key")],
        &["binary.path: ", "ssh.key: "],
    ),
    (
        "url without sha256",
        &[("path: ./rustfs", "url: https://example.invalid/rustfs")],
        &["binary.sha256: required with binary.url"],
    ),
    (
        "three hosts of one drive form one set of 3, parity at most 1",
        &[
            ("  - { name: n4, address: 10.9.0.4, drives: [/d1, /d2] }\n", ""),
            ("drives: [/d1, /d2]", "drives: [/d1]"),
        ],
        &["storage_class: EC:2 exceeds half of the erasure sets of 3 drives in the pool (at most EC:1)"],
    ),
    (
        "single drive cannot form an erasure set",
        &[
            ("  - { name: n2, address: 10.9.0.2, drives: [/d1, /d2] }\n", ""),
            ("  - { name: n3, address: 10.9.0.3, drives: [/d1, /d2] }\n", ""),
            ("  - { name: n4, address: 10.9.0.4, drives: [/d1, /d2] }\n", ""),
            ("drives: [/d1, /d2]", "drives: [/d1]"),
            ("EC:2", "EC:0"),
        ],
        &["hosts: 1 drive(s) in total cannot form an erasure set"],
    ),
    (
        "pool naming an unknown host and a host in no pool",
        &[("storage_class: EC:2", "pools:\n  - hosts: [n1, n2, n3, n9]\nstorage_class: EC:2")],
        &["pools[0].hosts[3]: no host named n9", "hosts[3]: host n4 is in no pool"],
    ),
    (
        "set size override that does not divide",
        &[("storage_class: EC:2", "set_drive_count: 3")],
        &["set_drive_count: RUSTFS_ERASURE_SET_DRIVE_COUNT=3 does not divide"],
    ),
    (
        "cluster address that is another host's address",
        &[("name: n2, address: 10.9.0.2,", "name: n2, address: 10.9.0.2, cluster_address: 10.9.0.3,")],
        &["hosts[1].cluster_address: 10.9.0.3 is the address of hosts[2] (n3): a cluster address must be this host's own"],
    ),
    (
        "duplicate cluster addresses, and hosts without one",
        &[
            ("name: n1, address: 10.9.0.1,", "name: n1, address: 10.9.0.1, cluster_address: 10.8.0.1,"),
            ("name: n2, address: 10.9.0.2,", "name: n2, address: 10.9.0.2, cluster_address: 10.8.0.1,"),
        ],
        &[
            "hosts[1].cluster_address: duplicate cluster address 10.8.0.1 (also hosts[0])",
            "hosts[2].cluster_address: required: hosts[0] has a cluster_address, so every host needs one",
            "hosts[3].cluster_address: required",
        ],
    ),
    (
        "cluster address that is not an address",
        &[("name: n1, address: 10.9.0.1,", "name: n1, address: 10.9.0.1, cluster_address: 'a b',")],
        &["hosts[0].cluster_address: \"a b\" is not a host name or IP address"],
    ),
    (
        "tls neither a boolean nor a mapping",
        &[("tls: { enabled: true }", "tls: maybe")],
        &["tls: invalid type: string \"maybe\", expected true, false or a mapping with `enabled`"],
    ),
    (
        "control plane over plain http to another machine",
        &[("tls: { enabled: true }", "tls: { enabled: true }\ncontrol_plane: { address: \"http://10.9.0.9:7070\", token: t }")],
        &["control_plane.address: \"http://10.9.0.9:7070\" is plain http to another machine, and the provisioner sends the control plane its token and the cluster's root credentials — use https://"],
    ),
    (
        "control plane without scheme",
        &[("tls: { enabled: true }", "tls: { enabled: true }\ncontrol_plane: { address: cp:7070 }")],
        &["control_plane.address: \"cp:7070\" must be an http:// or https:// URL"],
    ),
];

#[test]
fn broken_inventories_name_their_fields() {
    let f = fixture();
    for (what, edits, expected) in BROKEN {
        let mut text = GOOD.to_string();
        for (from, to) in *edits {
            assert!(text.contains(from), "{what}: fixture lacks {from:?}");
            text = text.replace(from, to);
        }
        let got = errors_of(&f, &text);
        for want in *expected {
            assert!(
                got.iter().any(|g| g.starts_with(want) || g.contains(want)),
                "{what}: expected {want:?} among {got:#?}"
            );
        }
    }
}

#[test]
fn tls_is_on_unless_turned_off_and_off_warns() {
    let f = fixture();
    for (tls, enabled) in [
        ("", true),
        ("tls: true", true),
        ("tls: {}", true),
        ("tls: { enabled: true }", true),
        ("tls: false", false),
        ("tls: { enabled: false }", false),
    ] {
        let inv = load(&f, &GOOD.replace("tls: { enabled: true }", tls)).unwrap();
        assert_eq!(inv.tls.enabled, enabled, "{tls:?}");
        let warnings = inv.warnings();
        if enabled {
            assert!(warnings.is_empty(), "{tls:?}: {warnings:?}");
        } else {
            assert_eq!(warnings, vec![TLS_OFF_WARNING.to_string()], "{tls:?}");
            assert!(TLS_OFF_WARNING.contains("plaintext"));
        }
    }
}

#[test]
fn cluster_addresses_are_used_for_endpoints_only() {
    let f = fixture();
    let mut text = GOOD.to_string();
    for i in 1..=4 {
        text = text.replace(
            &format!("address: 10.9.0.{i},"),
            &format!("address: 10.9.0.{i}, cluster_address: 192.168.50.{i},"),
        );
    }
    let inv = load(&f, &text).unwrap();
    assert_eq!(inv.hosts[2].rpc_address(), "192.168.50.3");
    assert_eq!(inv.hosts[2].address, "10.9.0.3");
    // SSH still goes to the address.
    assert_eq!(inv.ssh_target(&inv.hosts[2]).address, "10.9.0.3");
    // A host's own address as its cluster address is allowed (one network, said explicitly).
    let same = GOOD.replace(
        "address: 10.9.0.1,",
        "address: 10.9.0.1, cluster_address: 10.9.0.1,",
    );
    let got = errors_of(&f, &same);
    assert!(
        got.iter().all(|e| !e.contains("is the address of")),
        "{got:#?}"
    );
    // Local hosts listen on one address: no cluster network for them.
    let local = GOOD
        .replace("  key: id_test\n", "")
        .replace("address: 10.9.0.", "connection: local, address: 127.0.0.");
    let mut local_ca = local.clone();
    for i in 1..=4 {
        local_ca = local_ca.replace(
            &format!("address: 127.0.0.{i},"),
            &format!("address: 127.0.0.{i}, cluster_address: 127.0.1.{i},"),
        );
    }
    let got = errors_of(&f, &local_ca);
    assert!(
        got.iter()
            .any(|e| e.starts_with("hosts[0].cluster_address: not with connection: local")),
        "{got:#?}"
    );
}

#[test]
fn plain_http_control_planes_only_on_loopback() {
    for url in [
        "http://127.0.0.1:7070",
        "http://127.3.4.5:7070/",
        "http://localhost:7070",
        "http://[::1]:7070",
        "https://10.0.0.1:7070",
        "https://cp.example.com",
    ] {
        assert_eq!(control_plane_transport(url), Ok(()), "{url}");
    }
    for url in [
        "http://10.0.0.1:7070",
        "http://cp.example.com:7070",
        "http://[fe80::1]:7070",
        "http://127.0.0.1.example.com",
        "http://localhost.example.com:7070",
    ] {
        assert!(control_plane_transport(url).is_err(), "{url}");
    }
}

#[test]
fn all_errors_are_collected_at_once() {
    let f = fixture();
    let text = GOOD
        .replace("drives: [/d1, /d2] }", "drives: [d1, /d2] }")
        .replace("s3: 9000", "s3: 0")
        .replace("name: test-eu1", "name: Test_EU");
    let got = errors_of(&f, &text);
    assert!(got.len() >= 6, "{got:#?}");
    assert!(got.iter().any(|g| g.starts_with("cluster.name:")));
    assert!(got
        .iter()
        .any(|g| g.starts_with("ports.s3: 0 is out of range")));
    for i in 0..4 {
        assert!(got
            .iter()
            .any(|g| g == &format!("hosts[{i}].drives[0]: must be an absolute path")));
    }
}

#[test]
fn unset_variables_are_reported_with_other_problems() {
    let f = fixture();
    let text = GOOD
        .replace("${ROOT_USER}", "${NOT_SET_ANYWHERE}")
        .replace("s3: 9000", "s3: 0");
    let got = errors_of(&f, &text);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(got[0].starts_with("credentials.user: environment variable NOT_SET_ANYWHERE"));
    assert!(got[1].starts_with("ports.s3: 0 is out of range"));
}

#[test]
fn missing_default_key_is_reported_once() {
    let f = fixture();
    let got = errors_of(&f, &GOOD.replace("key: id_test", "key: no_such_key"));
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(got[0].starts_with("ssh.key: "));
}

#[test]
fn local_hosts_need_no_ssh_key() {
    let f = fixture();
    let text = GOOD
        .replace("  key: id_test\n", "")
        .replace("address: 10.9.0.", "connection: local, address: 127.0.0.");
    let inv = load(&f, &text).unwrap();
    assert!(inv.hosts.iter().all(|h| h.connection == Connection::Local));
}

#[test]
fn yaml_syntax_error_is_reported() {
    let f = fixture();
    let err = load(&f, "version: 1\nhosts: [\n").unwrap_err();
    assert!(matches!(err, Error::Yaml { .. }), "{err}");
}

fn examples_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples"))
}

#[test]
fn shipped_example_and_init_template_are_valid_and_identical() {
    let example = std::fs::read_to_string(examples_dir().join("inventory.yaml")).unwrap();
    assert_eq!(
        example,
        crate::init::TEMPLATE,
        "examples/inventory.yaml must equal provisioner/templates/inventory.yaml"
    );
    // Point the local paths of the example at the fixture, keep everything else.
    let f = fixture();
    let env = |name: &str| match name {
        "RUSTFS_ROOT_USER" => Some("admin".to_string()),
        "RUSTFS_ROOT_PASSWORD" => Some("change-me-please".to_string()),
        _ => None,
    };
    let dir = f.inventory.parent().unwrap().to_str().unwrap().to_string();
    let text = example
        .replace("./target/release/rustfs", &format!("{dir}/rustfs"))
        .replace("~/.ssh/id_ed25519", &format!("{dir}/id_test"));
    let inv = Inventory::from_str_with(&f.inventory, &text, &env).unwrap();
    assert_eq!(inv.hosts.len(), 4);
}
