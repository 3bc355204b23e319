use super::*;

#[test]
fn flag_beats_file_beats_default() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("cp.toml");
    std::fs::write(
        &f,
        "db = \"/var/lib/cp/cp.db\"\nlisten = \"0.0.0.0:1\"\ndown_after = 3\n",
    )
    .unwrap();
    let c = Config::resolve(ServeArgs {
        config: Some(f.clone()),
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(c.listen, "127.0.0.1:0");
    assert_eq!(c.poller.down_after, 3);
    assert_eq!(c.poller.interval, Duration::from_secs(2));
    assert_eq!(c.admin_token_file, PathBuf::from("/var/lib/cp/admin.token"));
    assert_eq!(
        c.retention.events_max_age,
        Some(Duration::from_secs(30 * 86_400)),
        "default event retention"
    );
    assert_eq!(
        c.retention.audit_max_age,
        Some(Duration::from_secs(90 * 86_400)),
        "default audit retention"
    );
    assert_eq!(c.tls, None, "plain HTTP unless a certificate is given");
    assert_eq!(
        c.http,
        HttpConfig {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_body_bytes: 1 << 20,
        }
    );
    std::fs::write(&f, "db = \"x\"\nbogus = 1\n").unwrap();
    let e = Config::resolve(ServeArgs {
        config: Some(f),
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.contains("unknown field `bogus`"), "{e}");
    let e = Config::resolve(ServeArgs::default()).unwrap_err();
    assert!(e.contains("--db"), "{e}");
}

fn resolve(file: &str, args: ServeArgs) -> Result<Config, String> {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("cp.toml");
    std::fs::write(&f, format!("db = \"x.db\"\n{file}")).unwrap();
    Config::resolve(ServeArgs {
        config: Some(f),
        ..args
    })
}

#[test]
fn event_retention_from_file_and_flag() {
    let c = resolve("event_retention_days = 7\n", ServeArgs::default()).unwrap();
    assert_eq!(
        c.retention.events_max_age,
        Some(Duration::from_secs(7 * 86_400))
    );
    let flag = ServeArgs {
        event_retention_days: Some(0),
        ..Default::default()
    };
    let c = resolve("event_retention_days = 7\n", flag).unwrap();
    assert_eq!(c.retention.events_max_age, None, "0 keeps events forever");
    let e = resolve("event_retention_days = 36501\n", ServeArgs::default()).unwrap_err();
    assert!(e.contains("event_retention_days must be 0-36500"), "{e}");
}

#[test]
fn audit_retention_from_file_and_flag() {
    let c = resolve("audit_retention_days = 3\n", ServeArgs::default()).unwrap();
    assert_eq!(
        c.retention.audit_max_age,
        Some(Duration::from_secs(3 * 86_400))
    );
    let flag = ServeArgs {
        audit_retention_days: Some(0),
        ..Default::default()
    };
    let c = resolve("audit_retention_days = 3\n", flag).unwrap();
    assert_eq!(c.retention.audit_max_age, None, "0 keeps the audit forever");
    let e = resolve("audit_retention_days = 40000\n", ServeArgs::default()).unwrap_err();
    assert!(e.contains("audit_retention_days must be 0-36500"), "{e}");
}

#[test]
fn tls_needs_both_files_and_names_the_missing_one() {
    let c = resolve(
        "tls_cert = \"/etc/cp/cert.pem\"\ntls_key = \"/etc/cp/key.pem\"\n",
        ServeArgs::default(),
    )
    .unwrap();
    assert_eq!(
        c.tls,
        Some(TlsFiles {
            cert: "/etc/cp/cert.pem".into(),
            key: "/etc/cp/key.pem".into()
        })
    );
    // a flag overrides the file's value of the same setting
    let c = resolve(
        "tls_cert = \"/etc/cp/cert.pem\"\ntls_key = \"/etc/cp/key.pem\"\n",
        ServeArgs {
            tls_key: Some("/run/key.pem".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(c.tls.unwrap().key, PathBuf::from("/run/key.pem"));
    let e = resolve("tls_cert = \"/etc/cp/cert.pem\"\n", ServeArgs::default()).unwrap_err();
    assert!(
        e.contains("--tls-cert is set but --tls-key is not")
            && e.contains("RUSTFS_CP_TLS_KEY")
            && e.contains("`tls_key`"),
        "{e}"
    );
    let e = resolve(
        "",
        ServeArgs {
            tls_key: Some("k.pem".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        e.contains("--tls-key is set but --tls-cert is not") && e.contains("RUSTFS_CP_TLS_CERT"),
        "{e}"
    );
}

#[test]
fn connection_limits_resolve_and_are_checked() {
    let c = resolve(
        "header_read_timeout_millis = 500\nidle_timeout_millis = 700\nmax_connections = 8\nmax_body_bytes = 4096\n",
        ServeArgs {
            max_connections: Some(9),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        c.http,
        HttpConfig {
            header_read_timeout: Duration::from_millis(500),
            idle_timeout: Duration::from_millis(700),
            max_connections: 9,
            max_body_bytes: 4096,
        }
    );
    for (file, want) in [
        (
            "header_read_timeout_millis = 0\n",
            "header_read_timeout_millis must be 100-600000",
        ),
        (
            "idle_timeout_millis = 99\n",
            "idle_timeout_millis must be 100-3600000",
        ),
        ("max_connections = 0\n", "max_connections must be 1-65536"),
        (
            "max_body_bytes = 10\n",
            "max_body_bytes must be 1024-67108864",
        ),
    ] {
        let e = resolve(file, ServeArgs::default()).unwrap_err();
        assert!(e.contains(want), "{file}: {e}");
    }
}

/// Every setting has a flag, the env var `RUSTFS_CP_<FLAG>` and a config-file key, and the
/// shipped example config names every key and parses.
#[test]
fn every_setting_has_a_flag_an_env_var_and_a_file_key() {
    use clap::CommandFactory;
    let cmd = ServeArgs::command();
    let file_keys = [
        "db",
        "listen",
        "tls_cert",
        "tls_key",
        "admin_token_file",
        "secret_key_file",
        "releases_dir",
        "header_read_timeout_millis",
        "idle_timeout_millis",
        "max_connections",
        "max_body_bytes",
        "poll_interval_millis",
        "poll_timeout_millis",
        "poll_concurrency",
        "down_after",
        "event_retention_days",
        "audit_retention_days",
        "log_format",
    ];
    let mut flags: Vec<String> = cmd
        .get_arguments()
        .filter(|a| a.get_id() != "config")
        .map(|a| {
            let long = a.get_long().unwrap().to_string();
            let env = a.get_env().unwrap().to_str().unwrap().to_string();
            assert_eq!(
                env,
                format!("RUSTFS_CP_{}", long.replace('-', "_").to_uppercase()),
                "{long}"
            );
            long.replace('-', "_")
        })
        .collect();
    flags.sort();
    let mut keys: Vec<String> = file_keys.iter().map(|k| k.to_string()).collect();
    keys.sort();
    assert_eq!(flags, keys);
    // and every key is accepted in the file
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/controlplane.example.toml");
    let text = std::fs::read_to_string(example).unwrap();
    for k in file_keys {
        assert!(
            text.contains(&format!("\n{k} =")) || text.contains(&format!("\n# {k} =")),
            "{k} is not in controlplane.example.toml"
        );
    }
    let parsed: FileConfig = toml::from_str(&text).unwrap();
    assert!(parsed.db.is_some());
}
