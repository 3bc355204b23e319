//! MinIO's built-in ("canned") identity policies, as JSON constants and parsed once on first
//! use. The definitions follow MinIO's, less its KMS and S3 Tables statements (no such actions
//! here); `readonly` keeps MinIO's explicit Deny of `admin:CreateUser`.

use std::sync::LazyLock;

use super::Policy;

/// `readonly`: read any object and any bucket's location.
pub const READONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetBucketLocation","s3:GetObject"],"Resource":["arn:aws:s3:::*"]},{"Effect":"Deny","Action":["admin:CreateUser"],"Resource":["arn:aws:s3:::*"]}]}"#;

/// `readwrite`: every S3 action on every bucket and object.
pub const READWRITE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::*"]}]}"#;

/// `writeonly`: upload objects anywhere.
pub const WRITEONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":["arn:aws:s3:::*"]}]}"#;

/// `diagnostics`: the admin API's read-only diagnostics (profiling, trace, logs, server info,
/// locks, health, bandwidth, metrics).
pub const DIAGNOSTICS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["admin:Profiling","admin:ServerTrace","admin:ConsoleLog","admin:ServerInfo","admin:TopLocksInfo","admin:OBDInfo","admin:BandwidthMonitor","admin:Prometheus"],"Resource":["arn:aws:s3:::*"]}]}"#;

/// `consoleAdmin`: every admin action and every S3 action.
pub const CONSOLE_ADMIN: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["admin:*"]},{"Effect":"Allow","Action":["s3:*"],"Resource":["arn:aws:s3:::*"]}]}"#;

/// The canned policies' names, as users attach them.
pub const NAMES: [&str; 5] = [
    "readonly",
    "readwrite",
    "writeonly",
    "diagnostics",
    "consoleAdmin",
];

fn parse(json: &str) -> Policy {
    Policy::parse_identity(json.as_bytes())
        .unwrap_or_else(|e| unreachable!("canned policy does not parse: {e}"))
}

static POLICIES: LazyLock<[Policy; 5]> = LazyLock::new(|| {
    [
        parse(READONLY),
        parse(READWRITE),
        parse(WRITEONLY),
        parse(DIAGNOSTICS),
        parse(CONSOLE_ADMIN),
    ]
});

/// The JSON of the canned policy `name`, if there is one.
pub fn json(name: &str) -> Option<&'static str> {
    let index = NAMES.iter().position(|n| *n == name)?;
    Some([READONLY, READWRITE, WRITEONLY, DIAGNOSTICS, CONSOLE_ADMIN][index])
}

/// The canned policy `name`, parsed, if there is one.
pub fn get(name: &str) -> Option<&'static Policy> {
    let index = NAMES.iter().position(|n| *n == name)?;
    Some(&POLICIES[index])
}

/// `readonly`.
pub fn readonly() -> &'static Policy {
    &POLICIES[0]
}

/// `readwrite`.
pub fn readwrite() -> &'static Policy {
    &POLICIES[1]
}

/// `writeonly`.
pub fn writeonly() -> &'static Policy {
    &POLICIES[2]
}

/// `diagnostics`.
pub fn diagnostics() -> &'static Policy {
    &POLICIES[3]
}

/// `consoleAdmin`.
pub fn console_admin() -> &'static Policy {
    &POLICIES[4]
}
