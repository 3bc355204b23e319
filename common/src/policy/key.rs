//! Condition keys (`aws:SourceIp`, `s3:prefix`, `s3:ExistingObjectTag/<tag>`, `jwt:<claim>` …)
//! and [`ConditionValues`], the values a request carries for them. Key names are matched without
//! regard to case, as in AWS, so each key is kept in one canonical lowercase spelling — except
//! the tag name after `s3:ExistingObjectTag/` and `s3:RequestObjectTag/`, since S3 tag keys are
//! case-sensitive.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// A condition key, in canonical spelling. Build one with [`ConditionKey::parse`] or use the
/// constants.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConditionKey(Cow<'static, str>);

macro_rules! keys {
    ($($konst:ident => $name:literal, $doc:literal;)*) => {
        impl ConditionKey {
            $(
                #[doc = $doc]
                pub const $konst: ConditionKey = ConditionKey(Cow::Borrowed($name));
            )*
        }
        /// Canonical (lowercase) names of the fixed keys.
        const FIXED_KEYS: &[&str] = &[$($name,)*];
    };
}

keys! {
    SOURCE_IP => "aws:sourceip", "`aws:SourceIp`: the client's IP address";
    SECURE_TRANSPORT => "aws:securetransport", "`aws:SecureTransport`: `true` over TLS";
    CURRENT_TIME => "aws:currenttime", "`aws:CurrentTime`: the request time, RFC 3339";
    EPOCH_TIME => "aws:epochtime", "`aws:EpochTime`: the request time, Unix seconds";
    USERNAME => "aws:username", "`aws:username`: the caller's user name";
    USERID => "aws:userid", "`aws:userid`: the caller's unique id (its access key)";
    PRINCIPAL_TYPE => "aws:principaltype", "`aws:PrincipalType`: `User`, `AssumedRole`, `Anonymous` …";
    REFERER => "aws:referer", "`aws:Referer`: the Referer header";
    USER_AGENT => "aws:useragent", "`aws:UserAgent`: the User-Agent header";
    GROUPS => "aws:groups", "`aws:groups`: the caller's groups";
    PREFIX => "s3:prefix", "`s3:prefix`: the listing prefix";
    DELIMITER => "s3:delimiter", "`s3:delimiter`: the listing delimiter";
    MAX_KEYS => "s3:max-keys", "`s3:max-keys`: the listing page size";
    VERSION_ID => "s3:versionid", "`s3:versionid`: the version a request names";
    X_AMZ_ACL => "s3:x-amz-acl", "`s3:x-amz-acl`: the canned ACL header";
    X_AMZ_SERVER_SIDE_ENCRYPTION => "s3:x-amz-server-side-encryption", "`s3:x-amz-server-side-encryption`";
    X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_ALGORITHM => "s3:x-amz-server-side-encryption-customer-algorithm", "`s3:x-amz-server-side-encryption-customer-algorithm`";
    X_AMZ_STORAGE_CLASS => "s3:x-amz-storage-class", "`s3:x-amz-storage-class`";
    X_AMZ_COPY_SOURCE => "s3:x-amz-copy-source", "`s3:x-amz-copy-source`: `bucket/key` of a copy";
    X_AMZ_METADATA_DIRECTIVE => "s3:x-amz-metadata-directive", "`s3:x-amz-metadata-directive`";
    X_AMZ_CONTENT_SHA256 => "s3:x-amz-content-sha256", "`s3:x-amz-content-sha256`";
    LOCATION_CONSTRAINT => "s3:locationconstraint", "`s3:LocationConstraint` of CreateBucket";
    OBJECT_LOCK_MODE => "s3:object-lock-mode", "`s3:object-lock-mode`";
    OBJECT_LOCK_RETAIN_UNTIL_DATE => "s3:object-lock-retain-until-date", "`s3:object-lock-retain-until-date`";
    OBJECT_LOCK_REMAINING_RETENTION_DAYS => "s3:object-lock-remaining-retention-days", "`s3:object-lock-remaining-retention-days`";
    OBJECT_LOCK_LEGAL_HOLD => "s3:object-lock-legal-hold", "`s3:object-lock-legal-hold`";
    SIGNATURE_VERSION => "s3:signatureversion", "`s3:signatureversion`: `AWS4-HMAC-SHA256` …";
    SIGNATURE_AGE => "s3:signatureage", "`s3:signatureAge`: milliseconds since signing";
    AUTH_TYPE => "s3:authtype", "`s3:authType`: `REST-HEADER`, `REST-QUERY-STRING` or `POST`";
    REQUEST_OBJECT_TAG_KEYS => "s3:requestobjecttagkeys", "`s3:RequestObjectTagKeys`: tag keys a request sets";
}

const EXISTING_OBJECT_TAG: &str = "s3:existingobjecttag/";
const REQUEST_OBJECT_TAG: &str = "s3:requestobjecttag/";

impl ConditionKey {
    /// Parses a key name as written in a policy, ignoring case. `None` for an unknown key. Tag
    /// keys (`s3:ExistingObjectTag/<tag>`, `s3:RequestObjectTag/<tag>`) keep the tag's case;
    /// every `jwt:<claim>` and `ldap:<attribute>` is accepted.
    pub fn parse(name: &str) -> Option<ConditionKey> {
        let lower = name.to_ascii_lowercase();
        if let Some(fixed) = FIXED_KEYS.iter().find(|k| **k == lower) {
            return Some(ConditionKey(Cow::Borrowed(fixed)));
        }
        for prefix in [EXISTING_OBJECT_TAG, REQUEST_OBJECT_TAG] {
            if lower.starts_with(prefix) && name.len() > prefix.len() {
                return Some(ConditionKey(Cow::Owned(format!(
                    "{prefix}{}",
                    &name[prefix.len()..]
                ))));
            }
        }
        let generic = ["jwt:", "ldap:"]
            .iter()
            .any(|p| lower.starts_with(p) && lower.len() > p.len());
        generic.then_some(ConditionKey(Cow::Owned(lower)))
    }

    /// Whether this is an `s3:ExistingObjectTag/<tag>` key (its value must be read from the
    /// object itself).
    pub fn is_existing_object_tag(&self) -> bool {
        self.0.starts_with(EXISTING_OBJECT_TAG)
    }

    /// `s3:ExistingObjectTag/<tag>`: the value of tag `tag` on the object a request reads.
    pub fn existing_object_tag(tag: &str) -> ConditionKey {
        ConditionKey(Cow::Owned(format!("{EXISTING_OBJECT_TAG}{tag}")))
    }

    /// `s3:RequestObjectTag/<tag>`: the value of tag `tag` a request sets.
    pub fn request_object_tag(tag: &str) -> ConditionKey {
        ConditionKey(Cow::Owned(format!("{REQUEST_OBJECT_TAG}{tag}")))
    }

    /// The canonical spelling.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConditionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The values a request carries for condition keys: key → list of strings (several for
/// multi-valued keys such as `s3:RequestObjectTagKeys` or `aws:groups`). A key with no entry, or
/// with an empty list, is *absent*: that is what `Null`, `...IfExists` and the set qualifiers
/// test.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionValues {
    map: HashMap<ConditionKey, Vec<String>>,
}

impl ConditionValues {
    /// No values.
    pub fn new() -> ConditionValues {
        ConditionValues::default()
    }

    /// Sets the values of `key`, replacing earlier ones. An empty list makes the key absent.
    pub fn set<I, S>(&mut self, key: ConditionKey, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.map
            .insert(key, values.into_iter().map(Into::into).collect());
    }

    /// Sets `key` to the single value `value`.
    pub fn set_one(&mut self, key: ConditionKey, value: impl Into<String>) {
        self.map.insert(key, vec![value.into()]);
    }

    /// Removes `key`, making it absent.
    pub fn remove(&mut self, key: &ConditionKey) {
        self.map.remove(key);
    }

    /// The values of `key`; `None` when the key is absent (no entry or an empty list).
    #[inline]
    pub fn get(&self, key: &ConditionKey) -> Option<&[String]> {
        self.map
            .get(key)
            .map(Vec::as_slice)
            .filter(|v| !v.is_empty())
    }

    /// The first value of `key` when it is non-empty: what a `${key}` policy variable expands to.
    #[inline]
    pub fn first(&self, key: &ConditionKey) -> Option<&str> {
        self.get(key)
            .and_then(|v| v.first())
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}
