//! LDAP for `AssumeRoleWithLDAPIdentity`: the node binds to the directory as the user (over
//! LDAPS, or StartTLS on `ldap://`; never in the clear), then, still bound as the user,
//! searches the user's groups. Groups map to policies through IAM groups named by the group's
//! distinguished name (`rustfs admin group add "cn=readers,ou=groups,dc=example,dc=org"`, then
//! `policy attach readonly --group …`).

use ldap3::{dn_escape, ldap_escape, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The directory `rustfs server` asks.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LdapConfig {
    /// LDAP server for `AssumeRoleWithLDAPIdentity`: `ldaps://host:636`, or `ldap://host:389`
    /// with `--ldap-starttls`.
    #[arg(long, env = "RUSTFS_LDAP_URL")]
    pub ldap_url: Option<String>,
    /// Upgrade an `ldap://` connection with StartTLS before binding.
    #[arg(long, env = "RUSTFS_LDAP_STARTTLS")]
    pub ldap_starttls: bool,
    /// The DN a username binds as, with `{username}` where the (DN-escaped) name goes, e.g.
    /// `uid={username},ou=people,dc=example,dc=org`.
    #[arg(long, env = "RUSTFS_LDAP_USER_DN_TEMPLATE")]
    pub ldap_user_dn_template: Option<String>,
    /// Where the user's groups are searched (subtree).
    #[arg(long, env = "RUSTFS_LDAP_GROUP_SEARCH_BASE")]
    pub ldap_group_search_base: Option<String>,
    /// Filter for the user's groups, with `{dn}` where the (filter-escaped) user DN goes.
    #[arg(
        long,
        env = "RUSTFS_LDAP_GROUP_SEARCH_FILTER",
        default_value = "(&(objectClass=groupOfNames)(member={dn}))"
    )]
    pub ldap_group_search_filter: String,
    /// PEM certificates that sign the LDAP server's certificate (default: the system's roots).
    #[arg(long, env = "RUSTFS_LDAP_CA_FILE")]
    pub ldap_ca_file: Option<PathBuf>,
}

impl LdapConfig {
    /// Checks the settings before the node starts.
    pub fn validate(&self) -> Result<(), String> {
        let Some(url) = &self.ldap_url else {
            return Ok(());
        };
        let tls = match url.split_once("://").map(|(s, _)| s) {
            Some("ldaps") => true,
            Some("ldap") => self.ldap_starttls,
            _ => {
                return Err(format!(
                    "--ldap-url {url:?}: use ldaps://HOST or ldap://HOST"
                ))
            }
        };
        if !tls {
            return Err(format!(
                "--ldap-url {url:?} would send passwords in the clear: use ldaps:// or add --ldap-starttls"
            ));
        }
        match &self.ldap_user_dn_template {
            Some(t) if t.contains("{username}") => {}
            _ => return Err("--ldap-url needs --ldap-user-dn-template with {username} in it, e.g. uid={username},ou=people,dc=example,dc=org".into()),
        }
        if self.ldap_group_search_base.is_none() {
            return Err(
                "--ldap-url needs --ldap-group-search-base (where the user's groups are)".into(),
            );
        }
        if !self.ldap_group_search_filter.contains("{dn}") {
            return Err("--ldap-group-search-filter must contain {dn}".into());
        }
        Ok(())
    }
}

/// Why an LDAP login failed.
#[derive(Debug, thiserror::Error)]
pub enum LdapError {
    #[error("LDAP rejected the username or password")]
    BadCredentials,
    #[error("cannot reach the LDAP server: {0}")]
    Unreachable(String),
}

/// The configured directory.
pub struct Ldap {
    url: String,
    settings: LdapConnSettings,
    user_dn_template: String,
    group_base: String,
    group_filter: String,
}

impl Ldap {
    /// The directory of `cfg`, if one is configured.
    pub fn new(cfg: &LdapConfig) -> anyhow::Result<Option<Ldap>> {
        let Some(url) = &cfg.ldap_url else {
            return Ok(None);
        };
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(Duration::from_secs(10))
            .set_starttls(cfg.ldap_starttls && url.starts_with("ldap://"));
        if let Some(path) = &cfg.ldap_ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                anyhow::anyhow!("cannot read --ldap-ca-file {}: {e}", path.display())
            })?;
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(&pem) {
                roots.add(c?)?;
            }
            if roots.is_empty() {
                anyhow::bail!("--ldap-ca-file {} holds no certificate", path.display());
            }
            let config = rustls::ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth();
            settings = settings.set_config(Arc::new(config));
        }
        Ok(Some(Ldap {
            url: url.clone(),
            settings,
            user_dn_template: cfg.ldap_user_dn_template.clone().unwrap_or_default(),
            group_base: cfg.ldap_group_search_base.clone().unwrap_or_default(),
            group_filter: cfg.ldap_group_search_filter.clone(),
        }))
    }

    /// Binds as `username` with `password` and answers the DNs of the user's groups.
    pub async fn login(&self, username: &str, password: &str) -> Result<Vec<String>, LdapError> {
        // An empty password is an "unauthenticated bind", which many servers let through.
        if username.is_empty() || password.is_empty() {
            return Err(LdapError::BadCredentials);
        }
        let unreachable = |e: ldap3::LdapError| LdapError::Unreachable(e.to_string());
        let (conn, mut ldap) = LdapConnAsync::with_settings(self.settings.clone(), &self.url)
            .await
            .map_err(unreachable)?;
        ldap3::drive!(conn);
        ldap.with_timeout(Duration::from_secs(10));
        let user_dn = self
            .user_dn_template
            .replace("{username}", &dn_escape(username));
        let bound = ldap
            .simple_bind(&user_dn, password)
            .await
            .map_err(unreachable)?;
        if bound.rc == 49 {
            return Err(LdapError::BadCredentials);
        }
        bound.success().map_err(unreachable)?;
        let filter = self.group_filter.replace("{dn}", &ldap_escape(&user_dn));
        ldap.with_timeout(Duration::from_secs(10));
        let (entries, _) = ldap
            .search(&self.group_base, Scope::Subtree, &filter, vec!["1.1"])
            .await
            .and_then(|r| r.success())
            .map_err(unreachable)?;
        let _ = ldap.unbind().await;
        Ok(entries
            .into_iter()
            .map(|e| SearchEntry::construct(e).dn)
            .collect())
    }
}
