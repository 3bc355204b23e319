//! A real OpenLDAP server for tests: `slapd` on two loopback ports (LDAPS, and plain LDAP that
//! offers StartTLS) with a certificate for 127.0.0.1 from a fresh CA, seeded with users and groups.
//!
//! Needs the `slapd` and `ldap-utils` packages (scripts/test.sh installs them). Each instance has
//! its own config, database, certificates and ports in a temporary directory, so it neither needs
//! nor disturbs a system slapd.

use crate::pki::{write, Ca};
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The suffix of the directory.
pub const BASE_DN: &str = "dc=example,dc=org";
/// The root DN (not subject to access control) and its password.
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=org";
pub const ADMIN_PASSWORD: &str = "admin-pass";
/// Seeded users (inetOrgPerson) as (uid, password); their DN is `uid=UID,ou=people,BASE_DN`.
pub const USERS: [(&str, &str); 3] = [
    ("alice", "alice-pass"),
    ("bob", "bob-pass"),
    ("carol", "carol-pass"),
];
/// Seeded groups (groupOfNames) as (cn, member uids); their DN is `cn=CN,ou=groups,BASE_DN`.
pub const GROUPS: [(&str, &[&str]); 2] = [("readers", &["alice", "carol"]), ("writers", &["bob"])];

/// The password of seeded user `uid`.
pub fn password(uid: &str) -> &'static str {
    USERS
        .iter()
        .find(|(u, _)| *u == uid)
        .unwrap_or_else(|| panic!("no seeded LDAP user {uid}"))
        .1
}

/// How long slapd may take to answer after it is started.
const READY_LIMIT: Duration = Duration::from_secs(10);
/// How often to try fresh ports, in case another process takes one between allocation and bind.
const ATTEMPTS: usize = 5;

/// One running `slapd`, killed on drop.
pub struct Slapd {
    /// `ldaps://127.0.0.1:PORT`
    pub ldaps_url: String,
    /// `ldap://127.0.0.1:PORT`, where StartTLS is available.
    pub ldap_url: String,
    /// The CA that signed the server certificate (PEM).
    pub ca_pem_path: PathBuf,
    /// [`BASE_DN`]
    pub base_dn: String,
    dir: tempfile::TempDir,
    child: Child,
}

impl Slapd {
    /// Starts slapd on two free loopback ports, seeded with [`USERS`] and [`GROUPS`], and waits
    /// (bounded) until it answers a bind over LDAPS. Panics with slapd's log when it does not.
    pub fn start() -> Slapd {
        let dir = tempfile::Builder::new()
            .prefix("rustfs-slapd-")
            .tempdir()
            .expect("tempdir");
        let d = dir.path();
        let ca = Ca::new("rustfs test LDAP CA");
        let (cert, key) = ca.leaf("127.0.0.1");
        let ca_pem_path = d.join("ca.pem");
        write(&ca_pem_path, &ca.cert_pem);
        write(&d.join("cert.pem"), &cert);
        write(&d.join("key.pem"), &key);
        std::fs::create_dir(d.join("db")).expect("db dir");
        let conf = d.join("slapd.conf");
        write(&conf, &config(d));
        write(&d.join("seed.ldif"), &seed_ldif());
        run(Command::new(sbin("slapadd"))
            .arg("-f")
            .arg(&conf)
            .arg("-l")
            .arg(d.join("seed.ldif")));

        let log = d.join("slapd.log");
        for _ in 0..ATTEMPTS {
            let [p1, p2] = free_ports();
            let ldap_url = format!("ldap://127.0.0.1:{p1}");
            let ldaps_url = format!("ldaps://127.0.0.1:{p2}");
            // `-d stats` keeps slapd in the foreground and logs each operation to stderr.
            let mut child = Command::new(sbin("slapd"))
                .arg("-f")
                .arg(&conf)
                .arg("-h")
                .arg(format!("{ldap_url}/ {ldaps_url}/"))
                .args(["-d", "stats"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(File::create(&log).expect("slapd log"))
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run slapd: {e} (install slapd)"));
            match wait_ready(&mut child, &ldaps_url, &ca_pem_path) {
                Ok(()) => {
                    return Slapd {
                        ldaps_url,
                        ldap_url,
                        ca_pem_path,
                        base_dn: BASE_DN.to_string(),
                        dir,
                        child,
                    }
                }
                // It exited: retry on other ports if one was taken after we freed it.
                Err(true) if read(&log).contains("Address already in use") => {}
                Err(exited) => {
                    let _ = child.kill();
                    let status = child.wait().expect("reap slapd");
                    let what = if exited {
                        format!("exited ({status})")
                    } else {
                        format!("did not answer on {ldaps_url} within {READY_LIMIT:?}")
                    };
                    panic!("slapd {what}; log:\n{}", read(&log));
                }
            }
        }
        panic!("slapd could not bind free loopback ports in {ATTEMPTS} attempts");
    }

    /// `uid=UID,ou=people,dc=example,dc=org`
    pub fn user_dn(&self, uid: &str) -> String {
        format!("uid={uid},ou=people,{}", self.base_dn)
    }

    /// `cn=CN,ou=groups,dc=example,dc=org`
    pub fn group_dn(&self, cn: &str) -> String {
        format!("cn={cn},ou=groups,{}", self.base_dn)
    }

    /// An OpenLDAP client tool (`ldapsearch`, `ldapwhoami`, ...) that trusts this server's CA
    /// and requires a valid certificate.
    pub fn command(&self, tool: &str) -> Command {
        client(tool, &self.ca_pem_path)
    }

    /// slapd's log so far (one line per connection and operation).
    pub fn log(&self) -> String {
        read(&self.dir.path().join("slapd.log"))
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls with `ldapwhoami` over LDAPS until it succeeds; `Err(true)` when slapd exited first,
/// `Err(false)` when it is still running but does not answer in time.
fn wait_ready(child: &mut Child, ldaps_url: &str, ca: &Path) -> Result<(), bool> {
    let deadline = Instant::now() + READY_LIMIT;
    while Instant::now() < deadline {
        if child.try_wait().expect("wait slapd").is_some() {
            return Err(true);
        }
        let ok = client("ldapwhoami", ca)
            .args(["-x", "-o", "nettimeout=2", "-H", ldaps_url])
            .args(["-D", ADMIN_DN, "-w", ADMIN_PASSWORD])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("cannot run ldapwhoami: {e} (install ldap-utils)"))
            .success();
        if ok {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(false)
}

/// An OpenLDAP client `tool` that trusts only `ca` and requires a valid certificate.
fn client(tool: &str, ca: &Path) -> Command {
    let mut c = Command::new(tool);
    c.env("LDAPTLS_CACERT", ca)
        .env("LDAPTLS_REQCERT", "demand")
        .stdin(Stdio::null());
    c
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// `/usr/sbin/NAME` when it is there (it is often not on a user's PATH), else `NAME`.
fn sbin(name: &str) -> PathBuf {
    let p = Path::new("/usr/sbin").join(name);
    if p.is_file() {
        p
    } else {
        name.into()
    }
}

/// Runs `cmd` to completion; panics with its output when it fails.
fn run(cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (install slapd and ldap-utils)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An SSHA hash of `password`, as slapd stores it.
fn hash(password: &str) -> String {
    run(Command::new(sbin("slappasswd")).args(["-s", password]))
}

/// Two loopback ports that were free a moment ago.
fn free_ports() -> [u16; 2] {
    // Both listeners are held until both ports are known, so they differ.
    let a = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let b = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    [a, b].map(|l| l.local_addr().expect("local addr").port())
}

/// slapd.conf: the standard schemas, TLS, access control and one mdb database in `dir`.
fn config(dir: &Path) -> String {
    let d = dir.display();
    // Debian builds the backends as modules; other builds may have mdb built in.
    let module = if Path::new("/usr/lib/ldap/back_mdb.so").exists() {
        "modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
    } else {
        ""
    };
    let rootpw = hash(ADMIN_PASSWORD);
    format!(
        "\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile {d}/slapd.pid
argsfile {d}/slapd.args
{module}
TLSCACertificateFile {d}/ca.pem
TLSCertificateFile {d}/cert.pem
TLSCertificateKeyFile {d}/key.pem

# Passwords serve only to bind; bound users read everything else; anonymous sees nothing.
access to attrs=userPassword
  by * auth
access to *
  by users read
  by * none

database mdb
suffix \"{BASE_DN}\"
rootdn \"{ADMIN_DN}\"
rootpw {rootpw}
directory {d}/db
index objectClass,uid,member eq
"
    )
}

/// The entries: the base, `ou=people` with [`USERS`], `ou=groups` with [`GROUPS`].
fn seed_ldif() -> String {
    let mut s = format!(
        "dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: example\n\n\
         dn: ou=people,{BASE_DN}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=groups,{BASE_DN}\nobjectClass: organizationalUnit\nou: groups\n\n"
    );
    for (uid, pw) in USERS {
        s += &format!(
            "dn: uid={uid},ou=people,{BASE_DN}\nobjectClass: inetOrgPerson\nuid: {uid}\n\
             cn: {uid}\nsn: {uid}\nuserPassword: {}\n\n",
            hash(pw)
        );
    }
    for (cn, members) in GROUPS {
        s += &format!("dn: cn={cn},ou=groups,{BASE_DN}\nobjectClass: groupOfNames\ncn: {cn}\n");
        for uid in members {
            s += &format!("member: uid={uid},ou=people,{BASE_DN}\n");
        }
        s += "\n";
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Output;

    fn out(cmd: &mut Command) -> Output {
        cmd.output().expect("run ldap tool")
    }

    fn text(o: &Output) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    }

    #[test]
    fn slapd_serves_tls_binds_and_group_searches() {
        let t = Instant::now();
        let s = Slapd::start();
        eprintln!("Slapd::start took {:?}", t.elapsed());
        let alice = s.user_dn("alice");

        // Every user binds over LDAPS with its own password.
        for (uid, pw) in USERS {
            let o = out(s
                .command("ldapwhoami")
                .args(["-x", "-H", &s.ldaps_url])
                .args(["-D", &s.user_dn(uid), "-w", pw]));
            assert!(o.status.success(), "{uid}: {}\n{}", text(&o), s.log());
            assert_eq!(text(&o).trim(), format!("dn:{}", s.user_dn(uid)));
        }

        // A wrong password is refused: invalid credentials (49).
        let o = out(s
            .command("ldapwhoami")
            .args(["-x", "-H", &s.ldaps_url])
            .args(["-D", &alice, "-w", "bob-pass"]));
        assert_eq!(o.status.code(), Some(49), "{}", text(&o));

        // StartTLS on the plain port; bound as itself each user finds exactly its groups.
        for (uid, pw) in USERS {
            let dn = s.user_dn(uid);
            let o = out(s
                .command("ldapsearch")
                .args(["-x", "-ZZ", "-LLL", "-H", &s.ldap_url])
                .args(["-D", &dn, "-w", pw, "-b", &format!("ou=groups,{BASE_DN}")])
                .arg(format!("(member={dn})"))
                .arg("dn"));
            assert!(o.status.success(), "{uid}: {}\n{}", text(&o), s.log());
            let mut found: Vec<String> = text(&o)
                .lines()
                .filter_map(|l| l.strip_prefix("dn: "))
                .map(str::to_string)
                .collect();
            found.sort();
            let want: Vec<String> = GROUPS
                .iter()
                .filter(|(_, m)| m.contains(&uid))
                .map(|(cn, _)| s.group_dn(cn))
                .collect();
            assert_eq!(found, want, "groups of {uid}");
        }

        // Anonymous sees nothing: the base is "no such object" (32).
        let o = out(s.command("ldapsearch").args([
            "-x",
            "-LLL",
            "-H",
            &s.ldaps_url,
            "-b",
            BASE_DN,
            "dn",
        ]));
        assert_eq!(o.status.code(), Some(32), "{}", text(&o));

        // A client that trusts another CA refuses the server: can't contact server (-1 → 255).
        let other = s.dir.path().join("other-ca.pem");
        write(&other, &Ca::new("other").cert_pem);
        let o = out(s.command("ldapwhoami").env("LDAPTLS_CACERT", &other).args([
            "-x",
            "-H",
            &s.ldaps_url,
            "-D",
            &alice,
            "-w",
            password("alice"),
        ]));
        assert!(!o.status.success(), "untrusted CA accepted: {}", text(&o));
    }
}
