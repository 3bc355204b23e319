//! POST Object: browser form uploads (`multipart/form-data` to `/<bucket>`), checked the way AWS
//! does before a byte of the file is read — the policy's Signature Version 4 verified, its
//! expiration and every condition checked, every form field covered by a condition — and then
//! streamed into the object layer with the size cap the policy's `content-length-range` sets.
//! Form fields before the file are bounded ([`MAX_FIELD_BYTES`] each, [`MAX_FIELDS_BYTES`] in
//! all), so an unauthenticated form costs the node a few KiB, whatever its size.

use super::error_response;
use crate::iam::root::RootKeys;
use crate::iam::Iam;
use crate::object::{ObjError, ObjectLayer, PutOptions};
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::Full;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

/// Largest form field (the policy included), as in AWS.
pub const MAX_FIELD_BYTES: u64 = 20 * 1024;
/// All form fields before the file, together.
pub const MAX_FIELDS_BYTES: usize = 64 * 1024;
/// Most form fields.
const MAX_FIELDS: usize = 64;
/// Largest object one POST may upload (S3's single-upload limit).
pub const MAX_FILE_BYTES: u64 = 5 << 30;

type Resp = http::Response<Full<Bytes>>;

/// True for a form upload: `POST /<bucket>` with a `multipart/form-data` body.
pub fn is_form_post<B>(req: &http::Request<B>) -> bool {
    let form = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .get(..19)
                .is_some_and(|p| p.eq_ignore_ascii_case("multipart/form-data"))
        });
    let bucket_only = req.uri().path().trim_matches('/').split('/').count() == 1
        && !req.uri().path().trim_matches('/').is_empty();
    req.method() == http::Method::POST && form && bucket_only
}

fn denied(message: &str) -> Resp {
    error_response(403, "AccessDenied", message)
}

/// A parsed POST policy condition.
#[derive(Debug, Clone, PartialEq)]
enum Condition {
    Eq(String, String),
    StartsWith(String, String),
    LengthRange(u64, u64),
}

/// The policy document: its expiration and conditions (field names lowercased, without `$`).
#[derive(Debug)]
struct Policy {
    expiration: time::OffsetDateTime,
    conditions: Vec<Condition>,
}

fn parse_policy(b64: &str) -> Result<Policy, String> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| format!("the policy is not base64: {e}"))?;
    let doc: serde_json::Value =
        serde_json::from_slice(&raw).map_err(|e| format!("the policy is not JSON: {e}"))?;
    let expiration = doc["expiration"]
        .as_str()
        .and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        })
        .ok_or("the policy has no valid expiration")?;
    let field = |v: &serde_json::Value| -> Result<String, String> {
        let s = v.as_str().ok_or("a condition's field is not a string")?;
        Ok(s.trim_start_matches('$').to_ascii_lowercase())
    };
    let text = |v: &serde_json::Value| -> Result<String, String> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| "a condition's value is not a string".to_string())
    };
    let mut conditions = Vec::new();
    for c in doc["conditions"]
        .as_array()
        .ok_or("the policy has no conditions")?
    {
        match c {
            serde_json::Value::Object(m) if m.len() == 1 => {
                let (k, v) = m.iter().next().expect("one entry");
                conditions.push(Condition::Eq(k.to_ascii_lowercase(), text(v)?));
            }
            serde_json::Value::Array(a) if a.len() == 3 => {
                let op = a[0].as_str().unwrap_or("").to_ascii_lowercase();
                match op.as_str() {
                    "eq" => conditions.push(Condition::Eq(field(&a[1])?, text(&a[2])?)),
                    "starts-with" => {
                        conditions.push(Condition::StartsWith(field(&a[1])?, text(&a[2])?))
                    }
                    "content-length-range" => {
                        let n = |v: &serde_json::Value| {
                            v.as_u64()
                                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                                .ok_or("content-length-range needs two numbers")
                        };
                        conditions.push(Condition::LengthRange(n(&a[1])?, n(&a[2])?));
                    }
                    other => return Err(format!("unknown policy condition {other:?}")),
                }
            }
            other => return Err(format!("malformed policy condition {other}")),
        }
    }
    Ok(Policy {
        expiration,
        conditions,
    })
}

/// Checks every condition against the form (and the URL's bucket), and that every form field is
/// covered by a condition. Returns the size range.
fn check_policy(
    policy: &Policy,
    fields: &BTreeMap<String, String>,
    bucket: &str,
) -> Result<(u64, u64), String> {
    if time::OffsetDateTime::now_utc() >= policy.expiration {
        return Err("Invalid according to Policy: Policy expired.".into());
    }
    let value = |name: &str| -> &str {
        if name == "bucket" {
            bucket
        } else {
            fields.get(name).map(String::as_str).unwrap_or("")
        }
    };
    let mut range = (0, MAX_FILE_BYTES);
    for c in &policy.conditions {
        let ok = match c {
            Condition::Eq(f, v) => value(f) == v,
            Condition::StartsWith(f, p) if f == "content-type" => value(f)
                .split(',')
                .all(|part| part.trim().starts_with(p.as_str())),
            Condition::StartsWith(f, p) => value(f).starts_with(p.as_str()),
            Condition::LengthRange(min, max) => {
                range = (*min, (*max).min(MAX_FILE_BYTES));
                true
            }
        };
        if !ok {
            return Err(format!(
                "Invalid according to Policy: Policy Condition failed: {c:?}"
            ));
        }
    }
    let exempt = |n: &str| {
        matches!(n, "policy" | "x-amz-signature" | "file" | "bucket") || n.starts_with("x-ignore-")
    };
    for name in fields.keys().filter(|n| !exempt(n)) {
        let covered = policy.conditions.iter().any(|c| match c {
            Condition::Eq(f, _) | Condition::StartsWith(f, _) => f == name,
            Condition::LengthRange(..) => false,
        });
        if !covered {
            return Err(format!(
                "Invalid according to Policy: Extra input fields: {name}"
            ));
        }
    }
    Ok(range)
}

/// Checks the form's Signature Version 4 over its policy, by root or an IAM user or service
/// account; returns the access key.
fn verify_signature(
    fields: &BTreeMap<String, String>,
    root: &RootKeys,
    iam: Option<&Arc<Iam>>,
) -> Result<String, Box<Resp>> {
    let get = |n: &str| fields.get(n).map(String::as_str);
    if get("signature").is_some() || get("awsaccesskeyid").is_some() {
        return Err(Box::new(error_response(
            400,
            "InvalidRequest",
            "Signature Version 2 POST forms are not supported; sign the policy with AWS4-HMAC-SHA256",
        )));
    }
    let (Some(policy), Some(signature)) = (get("policy"), get("x-amz-signature")) else {
        return Err(Box::new(denied(
            "anonymous form uploads are not allowed: the form needs a policy signed with AWS4-HMAC-SHA256 (x-amz-signature)",
        )));
    };
    if get("x-amz-algorithm") != Some("AWS4-HMAC-SHA256") {
        return Err(Box::new(error_response(
            400,
            "InvalidRequest",
            "x-amz-algorithm must be AWS4-HMAC-SHA256",
        )));
    }
    let credential = get("x-amz-credential").unwrap_or("");
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, "aws4_request"] = scope.as_slice() else {
        return Err(Box::new(error_response(
            400,
            "AuthorizationQueryParametersError",
            "x-amz-credential must be ACCESS_KEY/YYYYMMDD/REGION/s3/aws4_request",
        )));
    };
    if get("x-amz-date").is_none_or(|d| !d.starts_with(date)) {
        return Err(Box::new(error_response(
            400,
            "AuthorizationQueryParametersError",
            "x-amz-date is missing or does not match the credential's date",
        )));
    }
    let secret = if let Some(secret) = root.secret_if_root(access_key) {
        Some(secret)
    } else {
        iam.and_then(|iam| crate::iam::access::secret_of(iam, access_key))
    };
    let Some(secret) = secret else {
        return Err(Box::new(error_response(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
        )));
    };
    let hmac = |key: &[u8], data: &[u8]| {
        let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        m.update(data);
        m.finalize().into_bytes()
    };
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    let k = hmac(&k, b"aws4_request");
    let mut m = Hmac::<Sha256>::new_from_slice(&k).expect("HMAC takes any key length");
    m.update(policy.as_bytes());
    let given = hex::decode(signature).unwrap_or_default();
    if m.verify_slice(&given).is_err() {
        return Err(Box::new(denied(
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        )));
    }
    Ok(access_key.to_string())
}

/// Why the file stream was cut: the policy's size range.
const TOO_LARGE: u8 = 1;
const TOO_SMALL: u8 = 2;

/// Handles a POST Object form upload to the bucket in the path, signed by `root` or a key IAM
/// knows (`iam`: `None` while IAM is not loaded).
pub async fn handle<B>(
    root: &RootKeys,
    iam: Option<&Arc<Iam>>,
    layer: Arc<ObjectLayer>,
    req: http::Request<B>,
) -> Resp
where
    B: hyper::body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let bucket = req.uri().path().trim_matches('/').to_string();
    let content_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        return error_response(
            400,
            "MalformedPOSTRequest",
            "the form has no multipart boundary",
        );
    };
    let limits = multer::SizeLimit::new()
        .per_field(MAX_FIELD_BYTES)
        .for_field("file", MAX_FILE_BYTES + 1);
    let caller = req
        .extensions()
        .get::<crate::iam::access::Caller>()
        .copied();
    let (parts, body) = req.into_parts();
    let extensions = parts.extensions;
    let stream = http_body_util::BodyExt::into_data_stream(body);
    let mut form = multer::Multipart::with_constraints(
        stream,
        boundary,
        multer::Constraints::new().size_limit(limits),
    );
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut fields_bytes = 0;
    let file = loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => {
                return error_response(
                    400,
                    "MalformedPOSTRequest",
                    "the form has no file field (it must be the last field)",
                )
            }
            Err(e) => return error_response(400, "MalformedPOSTRequest", &e.to_string()),
        };
        let name = field.name().unwrap_or("").to_ascii_lowercase();
        if name == "file" {
            break field;
        }
        if fields.len() >= MAX_FIELDS {
            return error_response(400, "MalformedPOSTRequest", "the form has too many fields");
        }
        let value = match field.text().await {
            Ok(v) => v,
            Err(e) => return error_response(400, "MalformedPOSTRequest", &e.to_string()),
        };
        fields_bytes += name.len() + value.len();
        if fields_bytes > MAX_FIELDS_BYTES {
            return error_response(
                400,
                "MalformedPOSTRequest",
                "the form's fields are too large",
            );
        }
        fields.insert(name, value);
    };
    let signer = match verify_signature(&fields, root, iam) {
        Ok(k) => k,
        Err(refusal) => return *refusal,
    };
    let policy = match parse_policy(&fields["policy"]) {
        Ok(p) => p,
        Err(e) => return error_response(400, "InvalidPolicyDocument", &e),
    };
    let (min, max) = match check_policy(&policy, &fields, &bucket) {
        Ok(r) => r,
        Err(e) => return denied(&e),
    };
    let filename = file.file_name().unwrap_or("").to_string();
    let Some(key) = fields
        .get("key")
        .map(|k| k.replace("${filename}", &filename))
    else {
        return error_response(400, "InvalidArgument", "the form has no key field");
    };
    // Root may put anything; anyone else what its policies and the bucket's allow.
    if let Some(iam) = iam {
        let token = fields.get("x-amz-security-token").map(String::as_str);
        let who = match crate::iam::access::Who::of(iam, Some(&signer), token) {
            Ok(who) => who,
            Err(e) => return s3s_error(&e),
        };
        who.record(&extensions);
        if !crate::iam::access::may_post_object(iam, &who, &bucket, &key, caller).await {
            return denied("Access Denied");
        }
    }
    let mut user_meta = BTreeMap::new();
    for (k, v) in &fields {
        if let Some(m) = k.strip_prefix("x-amz-meta-") {
            user_meta.insert(m.to_string(), v.clone());
        }
        if matches!(
            k.as_str(),
            "cache-control" | "content-disposition" | "content-encoding" | "content-language"
        ) {
            user_meta.insert(format!("$h:{k}"), v.clone());
        }
    }
    let cut = Arc::new(AtomicU8::new(0));
    let body = {
        let cut = cut.clone();
        futures::stream::unfold((file, 0u64, false), move |(mut file, mut seen, done)| {
            let cut = cut.clone();
            async move {
                if done {
                    return None;
                }
                let stop = |why: u8, msg: &str| {
                    cut.store(why, Ordering::Relaxed);
                    Err(std::io::Error::other(msg.to_string()))
                };
                match file.chunk().await {
                    Ok(Some(c)) => {
                        seen += c.len() as u64;
                        if seen > max {
                            return Some((
                                stop(TOO_LARGE, "file over the policy's size"),
                                (file, seen, true),
                            ));
                        }
                        Some((Ok(c), (file, seen, false)))
                    }
                    Ok(None) if seen < min => Some((
                        stop(TOO_SMALL, "file under the policy's size"),
                        (file, seen, true),
                    )),
                    Ok(None) => None,
                    Err(e) => Some((Err(std::io::Error::other(e)), (file, seen, true))),
                }
            }
        })
    };
    let opts = PutOptions {
        content_type: fields.get("content-type").cloned(),
        user_meta,
        ..Default::default()
    };
    let info = match layer.put_object(&bucket, &key, Box::pin(body), opts).await {
        Ok(info) => info,
        Err(e) => {
            return match (cut.load(Ordering::Relaxed), e) {
                (TOO_LARGE, _) => error_response(
                    400,
                    "EntityTooLarge",
                    "Your proposed upload exceeds the maximum allowed size",
                ),
                (TOO_SMALL, _) => error_response(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                ),
                (_, e) => s3_error_response(e),
            }
        }
    };
    success(&fields, &bucket, &key, &info.etag)
}

/// An object-layer error as the S3 XML `s3s` would answer.
fn s3_error_response(e: ObjError) -> Resp {
    s3s_error(&s3s::S3Error::from(e))
}

/// An `s3s` error as the S3 XML `s3s` would answer.
fn s3s_error(err: &s3s::S3Error) -> Resp {
    let status = err
        .status_code()
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    error_response(
        status.as_u16(),
        err.code().as_str(),
        err.message().unwrap_or(""),
    )
}

/// The answer AWS gives: 204 by default, 200 or 201 (with an XML body) by `success_action_status`,
/// or a 303 to `success_action_redirect`.
fn success(fields: &BTreeMap<String, String>, bucket: &str, key: &str, etag: &str) -> Resp {
    let location = format!("/{bucket}/{}", rustfs_common::names::url_encode(key));
    let builder = http::Response::builder()
        .header(http::header::ETAG, format!("\"{etag}\""))
        .header(http::header::LOCATION, &location);
    let redirect = fields
        .get("success_action_redirect")
        .or_else(|| fields.get("redirect"))
        .and_then(|r| r.parse::<http::Uri>().ok());
    if let Some(r) = redirect {
        let sep = if r.query().is_some() { '&' } else { '?' };
        let to = format!(
            "{r}{sep}bucket={}&key={}&etag=%22{etag}%22",
            rustfs_common::names::url_encode(bucket),
            rustfs_common::names::url_encode(key)
        );
        return builder
            .status(303)
            .header(http::header::LOCATION, to)
            .body(Full::new(Bytes::new()))
            .expect("valid response");
    }
    match fields.get("success_action_status").map(String::as_str) {
        Some("201") => {
            let esc = crate::s3::xml_escape;
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Location>{}</Location><Bucket>{}</Bucket><Key>{}</Key><ETag>\"{etag}\"</ETag></PostResponse>",
                esc(&location),
                esc(bucket),
                esc(key)
            );
            builder
                .status(201)
                .header(http::header::CONTENT_TYPE, "application/xml")
                .body(Full::new(Bytes::from(body)))
                .expect("valid response")
        }
        Some("200") => builder
            .status(200)
            .body(Full::new(Bytes::new()))
            .expect("valid response"),
        _ => builder
            .status(204)
            .body(Full::new(Bytes::new()))
            .expect("valid response"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn policy(conditions: serde_json::Value, expires_in: i64) -> String {
        let exp = time::OffsetDateTime::now_utc() + time::Duration::seconds(expires_in);
        let doc = serde_json::json!({
            "expiration": exp.format(&time::format_description::well_known::Rfc3339).unwrap(),
            "conditions": conditions,
        });
        base64::engine::general_purpose::STANDARD.encode(doc.to_string())
    }

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn conditions_and_extra_fields_decide() {
        let p = parse_policy(&policy(
            serde_json::json!([
                {"bucket": "photos"},
                ["starts-with", "$key", "user/"],
                ["content-length-range", 1, 1024],
                {"x-amz-algorithm": "AWS4-HMAC-SHA256"}
            ]),
            60,
        ))
        .unwrap();
        let ok = fields(&[
            ("key", "user/a.jpg"),
            ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
            ("policy", "p"),
            ("x-amz-signature", "s"),
        ]);
        assert_eq!(check_policy(&p, &ok, "photos"), Ok((1, 1024)));
        assert!(check_policy(&p, &ok, "other").is_err(), "bucket");
        let bad_key = fields(&[
            ("key", "admin/a.jpg"),
            ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
        ]);
        assert!(check_policy(&p, &bad_key, "photos").is_err());
        let extra = fields(&[
            ("key", "user/a"),
            ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
            ("acl", "public-read"),
        ]);
        assert!(check_policy(&p, &extra, "photos")
            .unwrap_err()
            .contains("Extra input fields: acl"));
        let expired = parse_policy(&policy(serde_json::json!([]), -1)).unwrap();
        assert!(check_policy(&expired, &fields(&[]), "photos")
            .unwrap_err()
            .contains("expired"));
    }

    #[test]
    fn malformed_policies_are_named() {
        assert!(parse_policy("%%%").is_err());
        assert!(parse_policy(&base64::engine::general_purpose::STANDARD.encode("{}")).is_err());
        assert!(parse_policy(&policy(serde_json::json!([["between", "$key", "a"]]), 60)).is_err());
    }

    #[test]
    fn only_bucket_posts_with_form_bodies_are_forms() {
        let r = |m: &str, path: &str, ct: &str| {
            http::Request::builder()
                .method(m)
                .uri(path)
                .header("content-type", ct)
                .body(())
                .unwrap()
        };
        assert!(is_form_post(&r(
            "POST",
            "/photos",
            "multipart/form-data; boundary=x"
        )));
        assert!(is_form_post(&r(
            "POST",
            "/photos/",
            "Multipart/Form-Data; boundary=x"
        )));
        assert!(!is_form_post(&r(
            "POST",
            "/photos/key",
            "multipart/form-data; boundary=x"
        )));
        assert!(!is_form_post(&r(
            "POST",
            "/photos?delete",
            "application/xml"
        )));
        assert!(!is_form_post(&r(
            "PUT",
            "/photos",
            "multipart/form-data; boundary=x"
        )));
        assert!(!is_form_post(&r(
            "POST",
            "/",
            "multipart/form-data; boundary=x"
        )));
    }
}
