//! The provisioner's inventory loader (`Inventory::from_str_with`: YAML → `${VAR}` substitution →
//! typed structs → validation): any text gives an inventory or an error, never a panic, and every
//! validation problem names the field it is about (only problems of the document itself, such as
//! a missing top-level field or a document that is not a mapping, have the empty root path).
//!
//! Relative paths resolve against a scratch directory holding a binary, an SSH key and secret
//! files, so inventories can get past the file checks into the rest of validation.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rustfs_provision::inventory::Inventory;
use rustfs_provision::Error;
use std::path::PathBuf;
use std::sync::OnceLock;

fn inventory_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        // One fixed directory: forked fuzzing jobs write the same files into it.
        let dir = std::env::temp_dir().join("rustfs-fuzz-inventory");
        std::fs::create_dir_all(&dir).expect("scratch dir");
        for (name, body) in [
            ("rustfs", "binary"),
            ("id_test", "key"),
            ("pw", "supersecret\n"),
            ("token", "cp-token\n"),
        ] {
            std::fs::write(dir.join(name), body).expect("scratch file");
        }
        dir.join("inventory.yaml")
    })
}

/// The environment the inventory sees: the examples' variables, a number, and a value that would
/// change the document's structure if substitution were textual.
fn env(name: &str) -> Option<String> {
    match name {
        "RUSTFS_ROOT_USER" => Some("admin".into()),
        "RUSTFS_ROOT_PASSWORD" => Some("supersecret-password".into()),
        "RUSTFS_CONTROLPLANE_TOKEN" => Some("cp-token".into()),
        "FUZZ_PORT" => Some("9000".into()),
        "FUZZ_YAML" => Some("x: [1, 2]\n- y: {z".into()),
        "FUZZ_EMPTY" => Some(String::new()),
        _ => None,
    }
}

/// Messages serde gives for a problem of the document root itself.
const ROOT_PROBLEMS: &[&str] = &[
    "missing field",
    "unknown field",
    "invalid type",
    "duplicate field",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Inventory::from_str_with(inventory_path(), text, &env) {
        Ok(inv) => {
            assert!(!inv.hosts.is_empty(), "a valid inventory has hosts");
            for h in &inv.hosts {
                let _ = inv.ssh_target(h);
            }
            let _ = inv.pool_hosts();
        }
        Err(Error::Invalid { errors, .. }) => {
            assert!(!errors.0.is_empty(), "an invalid inventory names a problem");
            let root_is_mapping = matches!(
                serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text),
                Ok(serde_yaml_ng::Value::Mapping(_))
            );
            for e in &errors.0 {
                assert!(
                    !e.path.is_empty()
                        || !root_is_mapping
                        || ROOT_PROBLEMS.iter().any(|p| e.message.contains(p)),
                    "problem without a field path: {e:?}"
                );
            }
            let _ = errors.to_string();
        }
        Err(Error::Yaml { .. }) => {}
        Err(other) => panic!("unexpected error kind: {other}"),
    }
});
