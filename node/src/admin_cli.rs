//! `rustfs admin`: the IAM part of the admin API from the command line (ARCHITECTURE.md, "Access
//! control"). Requests are signed with SigV4 with the caller's keys from `AWS_ACCESS_KEY_ID` and
//! `AWS_SECRET_ACCESS_KEY`, like any S3 client; `--json` prints the server's JSON for scripts.

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use rand::distributions::{Alphanumeric, DistString};
use rustfs_admin_client::{AdminClient, AdminError, Keys};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// The node to ask (any node of the cluster)
    #[arg(long, env = "RUSTFS_ENDPOINT", default_value = "http://127.0.0.1:9000")]
    pub endpoint: String,
    /// Region the requests are signed for
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
    /// PEM file of the CA that signed the node's certificate (https endpoints)
    #[arg(long, env = "RUSTFS_ADMIN_CA")]
    pub ca: Option<PathBuf>,
    /// Print the server's JSON instead of text
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub what: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Users: `add ACCESS_KEY --secret-file FILE`, `remove|enable|disable ACCESS_KEY`, `list`
    #[command(subcommand)]
    User(UserCommand),
    /// Groups of users: `add NAME --members a,b`, `remove NAME`, `list`
    #[command(subcommand)]
    Group(GroupCommand),
    /// Policies: `create NAME FILE`, `attach|detach NAME --user U | --group G`, `list`, ...
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Service accounts: `add PARENT [--policy FILE] [--expiry RFC3339]`, `remove KEY`, `list`
    #[command(subcommand)]
    Svcacct(SvcacctCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Creates a user (or sets a new secret for it)
    Add {
        access_key: String,
        /// File holding the secret key (trailing newline ignored)
        #[arg(long)]
        secret_file: PathBuf,
    },
    Remove {
        access_key: String,
    },
    Enable {
        access_key: String,
    },
    Disable {
        access_key: String,
    },
    List,
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Creates a group or adds members to it (a group named by an LDAP group's DN needs none:
    /// it maps that LDAP group onto the policies attached to it)
    Add {
        name: String,
        #[arg(long, value_delimiter = ',')]
        members: Vec<String>,
    },
    /// Takes members out of a group, or removes an empty group when no member is named
    Remove {
        name: String,
        #[arg(long, value_delimiter = ',')]
        members: Vec<String>,
    },
    List,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Creates or replaces a policy from a JSON document
    Create {
        name: String,
        file: PathBuf,
    },
    Remove {
        name: String,
    },
    Show {
        name: String,
    },
    List,
    Attach(Attachment),
    Detach(Attachment),
}

#[derive(Debug, Args)]
pub struct Attachment {
    name: String,
    #[arg(long, conflicts_with = "group", required_unless_present = "group")]
    user: Option<String>,
    #[arg(long)]
    group: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SvcacctCommand {
    /// Creates a service account of PARENT; prints its generated keys
    Add {
        parent: String,
        /// A policy document narrowing the parent's policies
        #[arg(long)]
        policy: Option<PathBuf>,
        /// RFC 3339 time after which the key is refused
        #[arg(long)]
        expiry: Option<String>,
    },
    Remove {
        access_key: String,
    },
    List,
}

/// One admin call: method, path below `/rustfs/admin/v1/iam/`, JSON body.
struct Call(&'static str, String, String);

fn read(path: &PathBuf, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

/// The call, and for a new service account its generated keys (shown once, never again).
fn plan(cmd: &AdminCommand) -> anyhow::Result<(Call, Option<serde_json::Value>)> {
    use serde_json::json;
    let call = |m, p: String, b: serde_json::Value| Call(m, p, b.to_string());
    Ok(match cmd {
        AdminCommand::User(u) => match u {
            UserCommand::Add {
                access_key,
                secret_file,
            } => {
                let secret = read(secret_file, "secret file")?
                    .trim_end_matches(['\r', '\n'])
                    .to_string();
                (
                    call(
                        "PUT",
                        format!("users/{access_key}"),
                        json!({ "secret_key": secret }),
                    ),
                    None,
                )
            }
            UserCommand::Remove { access_key } => (
                Call("DELETE", format!("users/{access_key}"), String::new()),
                None,
            ),
            UserCommand::Enable { access_key } => (
                Call("POST", format!("users/{access_key}/enable"), String::new()),
                None,
            ),
            UserCommand::Disable { access_key } => (
                Call("POST", format!("users/{access_key}/disable"), String::new()),
                None,
            ),
            UserCommand::List => (Call("GET", "users".into(), String::new()), None),
        },
        AdminCommand::Group(g) => match g {
            GroupCommand::Add { name, members } => (
                call(
                    "PUT",
                    format!("groups/{name}"),
                    json!({ "members": members }),
                ),
                None,
            ),
            GroupCommand::Remove { name, members } if members.is_empty() => (
                Call("DELETE", format!("groups/{name}"), String::new()),
                None,
            ),
            GroupCommand::Remove { name, members } => (
                call(
                    "POST",
                    format!("groups/{name}/remove-members"),
                    json!({ "members": members }),
                ),
                None,
            ),
            GroupCommand::List => (Call("GET", "groups".into(), String::new()), None),
        },
        AdminCommand::Policy(p) => match p {
            PolicyCommand::Create { name, file } => (
                Call(
                    "PUT",
                    format!("policies/{name}"),
                    read(file, "policy file")?,
                ),
                None,
            ),
            PolicyCommand::Remove { name } => (
                Call("DELETE", format!("policies/{name}"), String::new()),
                None,
            ),
            PolicyCommand::Show { name } => {
                (Call("GET", format!("policies/{name}"), String::new()), None)
            }
            PolicyCommand::List => (Call("GET", "policies".into(), String::new()), None),
            PolicyCommand::Attach(a) | PolicyCommand::Detach(a) => {
                let how = if matches!(p, PolicyCommand::Attach(_)) {
                    "attach"
                } else {
                    "detach"
                };
                let body = json!({ "user": a.user, "group": a.group });
                (
                    call("POST", format!("policies/{}/{how}", a.name), body),
                    None,
                )
            }
        },
        AdminCommand::Svcacct(s) => match s {
            SvcacctCommand::Add {
                parent,
                policy,
                expiry,
            } => {
                let mut rng = rand::thread_rng();
                let key = Alphanumeric.sample_string(&mut rng, 20).to_uppercase();
                let secret = Alphanumeric.sample_string(&mut rng, 40);
                let policy: Option<serde_json::Value> = match policy {
                    Some(f) => Some(
                        serde_json::from_str(&read(f, "policy file")?)
                            .context("the policy file is not JSON")?,
                    ),
                    None => None,
                };
                let body = json!({ "parent": parent, "secret_key": secret, "policy": policy, "expiry": expiry });
                let shown = json!({ "access_key": key, "secret_key": secret });
                (
                    call("PUT", format!("service-accounts/{key}"), body),
                    Some(shown),
                )
            }
            SvcacctCommand::Remove { access_key } => (
                Call(
                    "DELETE",
                    format!("service-accounts/{access_key}"),
                    String::new(),
                ),
                None,
            ),
            SvcacctCommand::List => (Call("GET", "service-accounts".into(), String::new()), None),
        },
    })
}

/// Runs one `rustfs admin` command; errors say what the server answered.
pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    let (Ok(access_key), Ok(secret_key)) = (
        std::env::var("AWS_ACCESS_KEY_ID"),
        std::env::var("AWS_SECRET_ACCESS_KEY"),
    ) else {
        bail!("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the keys of root or of a user allowed the admin action");
    };
    let keys = Keys {
        access_key,
        secret_key,
    };
    let (Call(method, path, body), shown) = plan(&args.what)?;
    let mut client = reqwest::Client::builder().timeout(Duration::from_secs(60));
    if let Some(ca) = &args.ca {
        let pem =
            std::fs::read(ca).with_context(|| format!("cannot read --ca {}", ca.display()))?;
        client = client.add_root_certificate(reqwest::Certificate::from_pem(&pem)?);
    }
    let admin = AdminClient::new(client.build()?, &args.endpoint, keys).with_region(&args.region);
    let text = match admin.call(method, &format!("iam/{path}"), &body).await {
        Ok(text) => text,
        Err(e @ AdminError::Transport(_)) => bail!("cannot reach {}: {e}", args.endpoint),
        Err(AdminError::Refused {
            status, message, ..
        }) => bail!("{method} {path}: {status}: {message}"),
        Err(e) => bail!("{method} {path}: {e}"),
    };
    match shown {
        Some(keys) if args.json => println!("{keys}"),
        Some(keys) => println!(
            "access key: {}\nsecret key: {}",
            keys["access_key"].as_str().unwrap_or_default(),
            keys["secret_key"].as_str().unwrap_or_default()
        ),
        None if args.json || method == "GET" => println!("{text}"),
        None => println!("done"),
    }
    Ok(())
}
