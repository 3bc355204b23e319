//! Table, property and bad-input tests of the policy language, against AWS semantics.

use proptest::prelude::*;

use super::pattern::{Pattern, Syntax};
use super::*;
use Decision::{Allow, Default, Deny};

fn identity(json: &str) -> Policy {
    Policy::parse_identity(json.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{json}"))
}

fn bucket_policy(json: &str, bucket: &str) -> Policy {
    Policy::parse_bucket(json.as_bytes(), bucket).unwrap_or_else(|e| panic!("{e}\n{json}"))
}

fn identity_err(json: &str) -> String {
    Policy::parse_identity(json.as_bytes())
        .unwrap_err()
        .to_string()
}

fn bucket_err(json: &str, bucket: &str) -> String {
    Policy::parse_bucket(json.as_bytes(), bucket)
        .unwrap_err()
        .to_string()
}

/// A 2012-10-17 document with these statements.
fn doc(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

fn get(bucket: &str, key: &str) -> RequestContext {
    RequestContext::new(Action::GetObject).with_object(bucket, key)
}

fn on_object(action: Action, bucket: &str, key: &str) -> RequestContext {
    RequestContext::new(action).with_object(bucket, key)
}

fn on_bucket(action: Action, bucket: &str) -> RequestContext {
    RequestContext::new(action).with_bucket(bucket)
}

// ---- parsing ----

#[test]
fn statement_may_be_an_object_or_an_array() {
    let one = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#,
    );
    let many = identity(&doc(
        r#"{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*"]}"#,
    ));
    assert_eq!(one, many);
}

#[test]
fn version_defaults_and_2008_is_accepted() {
    let body = r#""Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]"#;
    let none = identity(&format!("{{{body}}}"));
    assert_eq!(none.version(), PolicyVersion::V2012_10_17);
    let old = identity(&format!(r#"{{"Version":"2008-10-17",{body}}}"#));
    assert_eq!(old.version(), PolicyVersion::V2008_10_17);
    let with_id = identity(&format!(r#"{{"Id":"p1",{body}}}"#));
    assert_eq!(with_id.id(), Some("p1"));
}

#[test]
fn action_names_ignore_case() {
    let p = identity(&doc(
        r#"{"Effect":"Allow","Action":"S3:getobject","Resource":"*"}"#,
    ));
    assert_eq!(p.evaluate(&get("b", "k")), Allow);
}

#[test]
fn action_wildcards_expand_over_the_catalogue() {
    let set = |pattern: &str| ActionSet::matching(pattern);
    let get_star = set("s3:Get*");
    assert!(get_star.contains(Action::GetObject));
    assert!(get_star.contains(Action::GetBucketLocation));
    assert!(!get_star.contains(Action::PutObject));
    let object = set("s3:*Object");
    for a in [
        Action::GetObject,
        Action::PutObject,
        Action::DeleteObject,
        Action::ReplicateObject,
    ] {
        assert!(object.contains(a), "{a}");
    }
    assert!(!object.contains(Action::GetObjectTagging));
    assert_eq!(set("*"), ActionSet::all());
    assert_eq!(set("s3:*"), ActionSet::s3());
    assert!(set("admin:*").is_resourceless());
    assert_eq!(
        set("s3:?etObject").iter().collect::<Vec<_>>(),
        [Action::GetObject]
    );
    assert_eq!(set("sts:*").iter().count(), 3);
    assert!(set("s3:GetObjec").is_empty());
}

#[test]
fn every_action_name_round_trips() {
    for &a in Action::ALL {
        assert_eq!(Action::from_name(a.name()), Some(a));
        assert_eq!(a.name().parse::<Action>(), Ok(a));
        assert_eq!(
            ActionSet::matching(a.name()).iter().collect::<Vec<_>>(),
            [a]
        );
    }
    assert_eq!(
        "s3:Nope".parse::<Action>().unwrap_err().to_string(),
        "unknown action s3:Nope"
    );
}

#[test]
fn s3_operations_map_to_actions() {
    for (op, action) in [
        ("HeadObject", Action::GetObject),
        ("UploadPart", Action::PutObject),
        ("CompleteMultipartUpload", Action::PutObject),
        ("DeleteObjects", Action::DeleteObject),
        ("ListObjectsV2", Action::ListBucket),
        ("HeadBucket", Action::ListBucket),
        ("ListBuckets", Action::ListAllMyBuckets),
        ("ListParts", Action::ListMultipartUploadParts),
        ("DeleteBucketCors", Action::PutBucketCors),
        ("DeleteBucketLifecycle", Action::PutLifecycleConfiguration),
        (
            "GetObjectLockConfiguration",
            Action::GetBucketObjectLockConfiguration,
        ),
    ] {
        assert_eq!(Action::for_s3_operation(op), Some(action), "{op}");
    }
    assert_eq!(Action::for_s3_operation("SelectObjectContent"), None);
}

#[test]
fn admin_only_statements_may_omit_resource() {
    let p = identity(&doc(r#"{"Effect":"Allow","Action":["admin:ServerInfo"]}"#));
    assert_eq!(
        p.evaluate(&RequestContext::new(Action::AdminServerInfo)),
        Allow
    );
    assert_eq!(p.evaluate(&RequestContext::new(Action::AdminHeal)), Default);
}

#[test]
fn condition_values_may_be_numbers_and_booleans() {
    let p = identity(&doc(
        r#"{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b",
            "Condition":{"NumericLessThanEquals":{"s3:max-keys":100},"Bool":{"aws:SecureTransport":true}}}"#,
    ));
    let ctx = on_bucket(Action::ListBucket, "b")
        .with_condition(ConditionKey::MAX_KEYS, ["50"])
        .with_condition(ConditionKey::SECURE_TRANSPORT, ["true"]);
    assert_eq!(p.evaluate(&ctx), Allow);
    assert_eq!(p.statements()[0].conditions().len(), 2);
}

// ---- bad input: every error kind, exact message ----

#[test]
fn too_large_documents_are_refused() {
    let pad = "x".repeat(MAX_IDENTITY_POLICY_BYTES);
    let json = doc(&format!(
        r#"{{"Sid":"{pad}","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#
    ));
    assert_eq!(
        identity_err(&json),
        format!(
            "policy document is {} bytes, over the 20480-byte limit; split it into several policies",
            json.len()
        )
    );
    assert_eq!(MAX_BUCKET_POLICY_BYTES, 20 * 1024);
}

#[test]
fn malformed_json_names_the_bad_field() {
    let cases = [
        (
            doc(r#"{"Effect":"Alow","Action":"s3:GetObject","Resource":"*"}"#),
            "malformed policy JSON at Statement[0].Effect: unknown variant `Alow`, expected `Allow` or `Deny` at line 1 column 53",
        ),
        (
            doc(r#"{"Effect":"Allow","Actions":"s3:GetObject","Resource":"*"}"#),
            "malformed policy JSON at Statement[0].Actions: unknown field `Actions`, expected one of `Sid`, `Effect`, `Principal`, `NotPrincipal`, `Action`, `NotAction`, `Resource`, `NotResource`, `Condition` at line 1 column 64",
        ),
        (
            doc(r#"{"Effect":"Allow","Action":5,"Resource":"*"}"#),
            "malformed policy JSON at Statement[0].Action: invalid type: integer `5`, expected a string at line 1 column 65",
        ),
        (
            doc(r#"{"Action":"s3:GetObject","Resource":"*"}"#),
            "malformed policy JSON at Statement[0]: missing field `Effect` at line 1 column 77",
        ),
        (
            doc(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringLike":{"s3:prefix":[["a"]]}}}"#),
            "malformed policy JSON at Statement[0].Condition.StringLike.s3:prefix[0]: invalid type: sequence, expected a string, number or boolean at line 1 column 135",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[]"#.to_owned(),
            "malformed policy JSON: EOF while parsing an object at line 1 column 38",
        ),
        (
            r#"{"Statement":[]} trailing"#.to_owned(),
            "malformed policy JSON: trailing characters at line 1 column 18",
        ),
        (
            r#"{"Version":"2012-10-17","Policy":[]}"#.to_owned(),
            "malformed policy JSON at Policy: unknown field `Policy`, expected one of `Version`, `Id`, `Statement` at line 1 column 32",
        ),
    ];
    for (json, want) in cases {
        assert_eq!(identity_err(&json), want, "{json}");
    }
}

#[test]
fn document_level_errors() {
    assert_eq!(
        identity_err(
            r#"{"Version":"2013-01-01","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#
        ),
        "unsupported policy Version 2013-01-01; use 2012-10-17"
    );
    for json in [r#"{"Version":"2012-10-17"}"#, r#"{"Statement":[]}"#] {
        assert_eq!(
            identity_err(json),
            "policy has no statements; add at least one to Statement"
        );
    }
    assert_eq!(
        identity_err(&doc(
            r#"{"Sid":"a","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
               {"Sid":"b","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
               {"Sid":"a","Effect":"Deny","Action":"s3:GetObject","Resource":"*"}"#
        )),
        "duplicate Sid a in statements 1 and 3; make each Sid unique"
    );
}

#[test]
fn statement_element_errors() {
    let cases = [
        (
            r#"{"Effect":"Allow","Action":"s3:GetObject","NotAction":"s3:PutObject","Resource":"*"}"#,
            "statement 1 has both Action and NotAction; use one of them",
        ),
        (
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","NotResource":"*"}"#,
            "statement 1 has both Resource and NotResource; use one of them",
        ),
        (
            r#"{"Effect":"Allow","Action":[],"Resource":"*"}"#,
            "statement 1 has an empty Action list",
        ),
        (
            r#"{"Effect":"Allow","NotAction":[],"Resource":"*"}"#,
            "statement 1 has an empty NotAction list",
        ),
        (
            r#"{"Effect":"Allow","Action":"s3:GetObject","NotResource":[]}"#,
            "statement 1 has an empty NotResource list",
        ),
        (
            r#"{"Effect":"Allow","Resource":"*"}"#,
            "statement 1 has neither Action nor NotAction; list the actions it covers",
        ),
        (
            r#"{"Effect":"Allow","Action":"s3:GetObject"}"#,
            "statement 1 has neither Resource nor NotResource; name what it covers, e.g. arn:aws:s3:::bucket/* (only admin and sts actions in an identity policy may omit it)",
        ),
        (
            r#"{"Effect":"Allow","NotAction":"admin:*"}"#,
            "statement 1 has neither Resource nor NotResource; name what it covers, e.g. arn:aws:s3:::bucket/* (only admin and sts actions in an identity policy may omit it)",
        ),
        (
            r#"{"Effect":"Allow","Action":"s3:GetObjec","Resource":"*"}"#,
            "unknown action s3:GetObjec in statement 1",
        ),
        (
            r#"{"Effect":"Allow","Action":"s3:Frob*","Resource":"*"}"#,
            "unknown action s3:Frob* in statement 1",
        ),
        (
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3::b/*"}"#,
            "invalid resource arn:aws:s3::b/* in statement 1; write arn:aws:s3:::bucket, arn:aws:s3:::bucket/key or *",
        ),
        (
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"b/*"}"#,
            "invalid resource b/* in statement 1; write arn:aws:s3:::bucket, arn:aws:s3:::bucket/key or *",
        ),
        (
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::"}"#,
            "invalid resource arn:aws:s3::: in statement 1; write arn:aws:s3:::bucket, arn:aws:s3:::bucket/key or *",
        ),
        (
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::/b"}"#,
            "invalid resource arn:aws:s3:::/b in statement 1; write arn:aws:s3:::bucket, arn:aws:s3:::bucket/key or *",
        ),
        (
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:usrname}/*"}"#,
            "unknown policy variable ${aws:usrname} in statement 1; use a condition key such as ${aws:username}, or ${$} for a literal $",
        ),
        (
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Principal":"*"}"#,
            "statement 1 has a Principal; an identity policy applies to whoever it is attached to — remove it, or set the document as a bucket policy",
        ),
    ];
    for (statement, want) in cases {
        assert_eq!(identity_err(&doc(statement)), want, "{statement}");
    }
    // Statements are numbered from 1.
    assert_eq!(
        identity_err(&doc(
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
               {"Effect":"Deny","Action":["s3:PutObject","s3:GetObjec"],"Resource":"*"}"#
        )),
        "unknown action s3:GetObjec in statement 2"
    );
}

#[test]
fn condition_errors() {
    let with = |condition: &str| {
        identity_err(&doc(&format!(
            r#"{{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{condition}}}"#
        )))
    };
    let cases = [
        (
            r#"{"StringEqual":{"s3:prefix":"a"}}"#,
            "unknown condition operator StringEqual in statement 1",
        ),
        (
            r#"{"stringequals":{"s3:prefix":"a"}}"#,
            "unknown condition operator stringequals in statement 1; did you mean StringEquals?",
        ),
        (
            r#"{"ForSomeValues:StringEquals":{"s3:prefix":"a"}}"#,
            "unknown condition operator ForSomeValues:StringEquals in statement 1; did you mean StringEquals?",
        ),
        (
            r#"{"NullIfExists":{"s3:prefix":"true"}}"#,
            "condition operator NullIfExists in statement 1 cannot take IfExists or a set qualifier; use Null alone",
        ),
        (
            r#"{"ForAnyValue:Null":{"s3:prefix":"true"}}"#,
            "condition operator ForAnyValue:Null in statement 1 cannot take IfExists or a set qualifier; use Null alone",
        ),
        (
            r#"{"StringEquals":{"s3:prefixx":"a"}}"#,
            "unknown condition key s3:prefixx in statement 1",
        ),
        (
            r#"{"StringEquals":{"s3:ExistingObjectTag/":"a"}}"#,
            "unknown condition key s3:ExistingObjectTag/ in statement 1",
        ),
        (
            r#"{"IpAddress":{"s3:prefix":"10.0.0.0/8"}}"#,
            "condition operator IpAddress in statement 1 applies to aws:SourceIp only, not s3:prefix",
        ),
        (
            r#"{"StringEquals":{}}"#,
            "condition operator StringEquals in statement 1 names no keys; remove it or add a key",
        ),
        (
            r#"{"StringEquals":{"s3:prefix":[]}}"#,
            "condition StringEquals on s3:prefix in statement 1 has no values",
        ),
        (
            r#"{"NumericLessThan":{"s3:max-keys":"ten"}}"#,
            "invalid value ten for NumericLessThan on s3:max-keys in statement 1: expected a number",
        ),
        (
            r#"{"DateGreaterThan":{"aws:CurrentTime":"yesterday"}}"#,
            "invalid value yesterday for DateGreaterThan on aws:CurrentTime in statement 1: expected an RFC 3339 date such as 2025-01-31T00:00:00Z, or Unix seconds",
        ),
        (
            r#"{"Bool":{"aws:SecureTransport":"yes"}}"#,
            "invalid value yes for Bool on aws:SecureTransport in statement 1: expected true or false",
        ),
        (
            r#"{"Null":{"s3:prefix":"maybe"}}"#,
            "invalid value maybe for Null on s3:prefix in statement 1: expected true or false",
        ),
        (
            r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/33"}}"#,
            "invalid value 10.0.0.0/33 for NotIpAddress on aws:SourceIp in statement 1: expected an IP address or a CIDR such as 10.0.0.0/8",
        ),
        (
            r#"{"StringLike":{"s3:prefix":"home/${aws:nope}/"}}"#,
            "unknown policy variable ${aws:nope} in statement 1; use a condition key such as ${aws:username}, or ${$} for a literal $",
        ),
    ];
    for (condition, want) in cases {
        assert_eq!(with(condition), want, "{condition}");
    }
}

#[test]
fn bucket_policy_errors() {
    let b = "photos";
    let cases = [
        (
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#,
            "statement 1 has no Principal; a bucket policy statement must name one, e.g. \"Principal\": {\"AWS\": [\"*\"]}",
        ),
        (
            r#"{"Effect":"Allow","Principal":"*","NotPrincipal":{"AWS":"x"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#,
            "statement 1 has both Principal and NotPrincipal; use one of them",
        ),
        (
            r#"{"Effect":"Allow","Principal":{"AWS":[]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#,
            "statement 1 has an empty Principal list",
        ),
        (
            r#"{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:role/r"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#,
            "invalid principal arn:aws:iam::1:role/r in statement 1; write *, an access key, a user name or arn:aws:iam::<account>:user/<name>",
        ),
        (
            r#"{"Effect":"Allow","Principal":{"AWS":["al*"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#,
            "invalid principal al* in statement 1; write *, an access key, a user name or arn:aws:iam::<account>:user/<name>",
        ),
        (
            r#"{"Effect":"Allow","Principal":"alice","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#,
            "malformed policy JSON at Statement[0].Principal: principal alice must be written {\"AWS\": [\"alice\"]}; only \"*\" stands alone at line 1 column 74",
        ),
        (
            r#"{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}"#,
            "malformed policy JSON at Statement[0].Principal: unsupported principal type Service; only AWS principals are supported at line 1 column 77",
        ),
        (
            r#"{"Effect":"Allow","Principal":"*","Action":"admin:ServerInfo","Resource":"arn:aws:s3:::photos"}"#,
            "action admin:ServerInfo in statement 1 cannot be used in a bucket policy; bucket policies cover s3 actions only",
        ),
        (
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}"#,
            "resource arn:aws:s3:::other/* in statement 1 is outside bucket photos; a bucket policy may only name its own bucket",
        ),
        (
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos2/*"}"#,
            "resource arn:aws:s3:::photos2/* in statement 1 is outside bucket photos; a bucket policy may only name its own bucket",
        ),
        (
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::photo"}"#,
            "resource arn:aws:s3:::photo in statement 1 is outside bucket photos; a bucket policy may only name its own bucket",
        ),
        (
            r#"{"Effect":"Allow","Principal":"*","Action":"admin:*"}"#,
            "action admin:* in statement 1 cannot be used in a bucket policy; bucket policies cover s3 actions only",
        ),
        (
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}"#,
            "statement 1 has neither Resource nor NotResource; name what it covers, e.g. arn:aws:s3:::bucket/* (only admin and sts actions in an identity policy may omit it)",
        ),
    ];
    for (statement, want) in cases {
        assert_eq!(bucket_err(&doc(statement), b), want, "{statement}");
    }
}

#[test]
fn bucket_policy_resources_in_the_bucket_are_accepted() {
    for resource in [
        "arn:aws:s3:::photos",
        "arn:aws:s3:::photos/*",
        "arn:aws:s3:::photos/2024/*.jpg",
        "arn:aws:s3:::photo*",
        "arn:aws:s3:::ph?tos/*",
        "arn:aws:s3:::*",
        "*",
        "arn:aws:s3:::photos/${aws:username}/*",
        "arn:aws:s3:::${aws:username}/*",
    ] {
        let json = doc(&format!(
            r#"{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"{resource}"}}"#
        ));
        bucket_policy(&json, "photos");
    }
}

// ---- evaluation ----

#[test]
fn canned_policies_decide_as_minio_does() {
    let ro = canned::readonly();
    assert_eq!(ro.evaluate(&get("b", "k")), Allow);
    assert_eq!(
        ro.evaluate(&on_bucket(Action::GetBucketLocation, "b")),
        Allow
    );
    assert_eq!(
        ro.evaluate(&on_object(Action::PutObject, "b", "k")),
        Default
    );
    assert_eq!(ro.evaluate(&on_bucket(Action::ListBucket, "b")), Default);
    assert_eq!(
        ro.evaluate(&RequestContext::new(Action::AdminCreateUser)),
        Deny
    );

    let rw = canned::readwrite();
    assert_eq!(
        rw.evaluate(&on_object(Action::DeleteObject, "b", "k")),
        Allow
    );
    assert_eq!(
        rw.evaluate(&RequestContext::new(Action::ListAllMyBuckets)),
        Allow
    );
    assert_eq!(
        rw.evaluate(&RequestContext::new(Action::AdminServerInfo)),
        Default
    );

    let wo = canned::writeonly();
    assert_eq!(wo.evaluate(&on_object(Action::PutObject, "b", "k")), Allow);
    assert_eq!(wo.evaluate(&get("b", "k")), Default);

    let diag = canned::diagnostics();
    assert_eq!(
        diag.evaluate(&RequestContext::new(Action::AdminPrometheus)),
        Allow
    );
    assert_eq!(
        diag.evaluate(&RequestContext::new(Action::AdminCreateUser)),
        Default
    );

    let admin = canned::console_admin();
    assert_eq!(
        admin.evaluate(&RequestContext::new(Action::AdminCreateUser)),
        Allow
    );
    assert_eq!(admin.evaluate(&get("b", "k")), Allow);
    assert_eq!(
        admin.evaluate(&RequestContext::new(Action::StsAssumeRole)),
        Default
    );

    for name in canned::NAMES {
        let p = canned::get(name).unwrap();
        assert_eq!(p.to_json(), canned::json(name).unwrap(), "{name}");
    }
    assert!(canned::get("root").is_none());
}

#[test]
fn deny_wins_within_a_policy_whatever_the_order() {
    for order in [
        r#"{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/secret/*"},
           {"Effect":"Allow","Action":"s3:*","Resource":"*"}"#,
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"},
           {"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/secret/*"}"#,
    ] {
        let p = identity(&doc(order));
        assert_eq!(p.evaluate(&get("b", "secret/x")), Deny);
        assert_eq!(p.evaluate(&get("b", "public/x")), Allow);
        assert_eq!(
            p.evaluate(&on_object(Action::PutObject, "b", "secret/x")),
            Allow
        );
    }
}

#[test]
fn resource_matching_follows_aws() {
    let p = identity(&doc(
        r#"{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],
            "Resource":["arn:aws:s3:::b/a*z","arn:aws:s3:::b/q?","arn:aws:s3:::c"]}"#,
    ));
    let table = [
        (get("b", "az"), Allow),
        (get("b", "a/deep/path/z"), Allow), // `*` crosses `/`
        (get("b", "a/z/"), Default),
        (get("b", "qx"), Allow),
        (get("b", "q"), Default),
        (get("b", "qxy"), Default),
        (get("b", "qé"), Allow),  // `?` is one character, not one byte
        (get("c", "k"), Default), // bucket ARN does not cover objects
        (on_bucket(Action::ListBucket, "c"), Allow),
        (on_bucket(Action::ListBucket, "b"), Default),
        (RequestContext::new(Action::GetObject), Default),
    ];
    for (ctx, want) in table {
        assert_eq!(p.evaluate(&ctx), want, "{}", ctx.resource());
    }
    // `bucket/*` does not grant bucket-level actions.
    let objects = identity(&doc(
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}"#,
    ));
    assert_eq!(
        objects.evaluate(&on_bucket(Action::ListBucket, "b")),
        Default
    );
    assert_eq!(objects.evaluate(&get("b", "x")), Allow);
    assert_eq!(
        objects.evaluate(&RequestContext::new(Action::ListAllMyBuckets)),
        Default
    );
}

#[test]
fn not_action_and_not_resource() {
    let p = identity(&doc(
        r#"{"Effect":"Allow","NotAction":["s3:Delete*"],"Resource":"arn:aws:s3:::b/*"},
           {"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::b/*","arn:aws:s3:::b"]}"#,
    ));
    assert_eq!(p.evaluate(&on_object(Action::PutObject, "b", "k")), Allow);
    assert_eq!(
        p.evaluate(&on_object(Action::DeleteObject, "b", "k")),
        Default
    );
    assert_eq!(p.evaluate(&get("other", "k")), Deny);
    assert_eq!(p.evaluate(&on_bucket(Action::ListBucket, "b")), Default);
    // NotAction covers admin actions too, but their resource string is empty and `b/*` does
    // not match it; the Deny covers s3 actions only.
    assert_eq!(
        p.evaluate(&RequestContext::new(Action::AdminServerInfo)),
        Default
    );
    let everything_but_delete = identity(&doc(
        r#"{"Effect":"Allow","NotAction":"s3:DeleteObject","Resource":"*"}"#,
    ));
    assert_eq!(
        everything_but_delete.evaluate(&RequestContext::new(Action::AdminServerInfo)),
        Allow
    );
    assert!(!everything_but_delete.statements()[0]
        .actions()
        .contains(Action::DeleteObject));
}

#[test]
fn policy_variables_are_substituted() {
    let p = identity(&doc(
        r#"{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::home/${aws:username}/*","arn:aws:s3:::keys/${aws:userid}"]},
           {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::home",
            "Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*","${aws:username}"]}}}"#,
    ));
    let alice = |ctx: RequestContext| ctx.with_user("alice", "AKALICE");
    let list = |prefix: &str| {
        on_bucket(Action::ListBucket, "home").with_condition(ConditionKey::PREFIX, [prefix])
    };
    let table = [
        (alice(get("home", "alice/notes.txt")), Allow),
        (alice(get("home", "bob/notes.txt")), Default),
        (get("home", "alice/notes.txt"), Default), // anonymous: no variable value
        (
            alice(on_object(Action::PutObject, "keys", "AKALICE")),
            Allow,
        ),
        (
            alice(on_object(Action::PutObject, "keys", "alice")),
            Default,
        ),
        (alice(list("home/alice/")), Allow),
        (alice(list("alice")), Allow),
        (alice(list("home/bob/")), Default),
        (list("home/alice/"), Default),
    ];
    for (ctx, want) in table {
        assert_eq!(p.evaluate(&ctx), want, "{}", ctx.resource());
    }
}

#[test]
fn variable_escapes_and_2008_literals() {
    let p = identity(&doc(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/${*}","arn:aws:s3:::b/q${?}","arn:aws:s3:::b/${$}{x}"]}"#,
    ));
    assert_eq!(p.evaluate(&get("b", "*")), Allow);
    assert_eq!(p.evaluate(&get("b", "x")), Default);
    assert_eq!(p.evaluate(&get("b", "q?")), Allow);
    assert_eq!(p.evaluate(&get("b", "qx")), Default);
    assert_eq!(p.evaluate(&get("b", "${x}")), Allow);

    // In 2008-10-17 documents `${...}` is plain text, as in AWS.
    let old = identity(
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}"}]}"#,
    );
    let alice = |key: &str| get("b", key).with_user("alice", "AK");
    assert_eq!(old.evaluate(&alice("alice")), Default);
    assert_eq!(old.evaluate(&alice("${aws:username}")), Allow);
    // A variable with no value never matches, and an unknown one in 2008 is just text.
    identity(
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${nope}"}]}"#,
    );
}

/// Whether a one-condition Allow statement grants GetObject when the request carries `request`
/// for `key` (`None`: the key is absent).
fn holds(operator: &str, key: &str, values: &str, request: Option<&[&str]>) -> bool {
    let p = identity(&doc(&format!(
        r#"{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{{"{operator}":{{"{key}":{values}}}}}}}"#
    )));
    let mut ctx = get("b", "k");
    if let Some(request) = request {
        let key = ConditionKey::parse(key).unwrap();
        ctx = ctx.with_condition(key, request.iter().copied());
    }
    p.evaluate(&ctx) == Allow
}

/// Operator, key, policy values (JSON), request values (`None`: absent), expected.
type OperatorCase = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static [&'static str]>,
    bool,
);

#[test]
fn every_condition_operator() {
    let cases: &[OperatorCase] = &[
        (
            "StringEquals",
            "s3:prefix",
            r#"["a","b"]"#,
            Some(&["b"]),
            true,
        ),
        ("StringEquals", "s3:prefix", r#""a""#, Some(&["A"]), false),
        ("StringEquals", "s3:prefix", r#""a""#, None, false),
        (
            "StringNotEquals",
            "s3:prefix",
            r#"["a","b"]"#,
            Some(&["c"]),
            true,
        ),
        (
            "StringNotEquals",
            "s3:prefix",
            r#"["a","b"]"#,
            Some(&["a"]),
            false,
        ),
        ("StringNotEquals", "s3:prefix", r#""a""#, None, true),
        (
            "StringEqualsIgnoreCase",
            "aws:UserAgent",
            r#""Curl/8""#,
            Some(&["cURL/8"]),
            true,
        ),
        (
            "StringEqualsIgnoreCase",
            "aws:UserAgent",
            r#""ÉTÉ""#,
            Some(&["été"]),
            true,
        ),
        (
            "StringEqualsIgnoreCase",
            "aws:UserAgent",
            r#""curl""#,
            Some(&["curl/8"]),
            false,
        ),
        (
            "StringNotEqualsIgnoreCase",
            "aws:UserAgent",
            r#""curl""#,
            Some(&["CURL"]),
            false,
        ),
        (
            "StringNotEqualsIgnoreCase",
            "aws:UserAgent",
            r#""curl""#,
            Some(&["wget"]),
            true,
        ),
        (
            "StringLike",
            "aws:Referer",
            r#""https://*.example.com/*""#,
            Some(&["https://www.example.com/a"]),
            true,
        ),
        (
            "StringLike",
            "aws:Referer",
            r#""https://*.example.com/*""#,
            Some(&["https://evil.com/"]),
            false,
        ),
        ("StringLike", "s3:prefix", r#""a?c""#, Some(&["abc"]), true),
        ("StringLike", "s3:prefix", r#""a*""#, None, false),
        (
            "StringNotLike",
            "s3:prefix",
            r#""private/*""#,
            Some(&["public/x"]),
            true,
        ),
        (
            "StringNotLike",
            "s3:prefix",
            r#""private/*""#,
            Some(&["private/x"]),
            false,
        ),
        ("StringNotLike", "s3:prefix", r#""private/*""#, None, true),
        ("NumericEquals", "s3:max-keys", "10", Some(&["10"]), true),
        (
            "NumericEquals",
            "s3:max-keys",
            r#""10""#,
            Some(&["10.0"]),
            true,
        ),
        ("NumericEquals", "s3:max-keys", "10", Some(&["11"]), false),
        ("NumericEquals", "s3:max-keys", "10", Some(&["ten"]), false),
        ("NumericNotEquals", "s3:max-keys", "10", Some(&["11"]), true),
        (
            "NumericNotEquals",
            "s3:max-keys",
            "10",
            Some(&["10"]),
            false,
        ),
        ("NumericNotEquals", "s3:max-keys", "10", None, true),
        ("NumericLessThan", "s3:max-keys", "100", Some(&["99"]), true),
        (
            "NumericLessThan",
            "s3:max-keys",
            "100",
            Some(&["100"]),
            false,
        ),
        (
            "NumericLessThanEquals",
            "s3:max-keys",
            "100",
            Some(&["100"]),
            true,
        ),
        (
            "NumericLessThanEquals",
            "s3:max-keys",
            "100",
            Some(&["101"]),
            false,
        ),
        ("NumericGreaterThan", "s3:max-keys", "5", Some(&["6"]), true),
        (
            "NumericGreaterThan",
            "s3:max-keys",
            "5",
            Some(&["5"]),
            false,
        ),
        (
            "NumericGreaterThanEquals",
            "s3:max-keys",
            "5",
            Some(&["5"]),
            true,
        ),
        (
            "NumericGreaterThanEquals",
            "s3:max-keys",
            "5",
            Some(&["4"]),
            false,
        ),
        ("NumericGreaterThan", "s3:max-keys", "5", None, false),
        (
            "DateEquals",
            "aws:CurrentTime",
            r#""2025-01-31T00:00:00Z""#,
            Some(&["2025-01-31T01:00:00+01:00"]),
            true,
        ),
        (
            "DateEquals",
            "aws:CurrentTime",
            r#""2025-01-31T00:00:00Z""#,
            Some(&["1738281600"]),
            true,
        ),
        (
            "DateNotEquals",
            "aws:CurrentTime",
            r#""2025-01-31T00:00:00Z""#,
            Some(&["2025-02-01T00:00:00Z"]),
            true,
        ),
        (
            "DateNotEquals",
            "aws:CurrentTime",
            r#""2025-01-31T00:00:00Z""#,
            Some(&["2025-01-31T00:00:00Z"]),
            false,
        ),
        (
            "DateLessThan",
            "aws:CurrentTime",
            r#""2025-01-31T00:00:00Z""#,
            Some(&["2025-01-30T23:59:59Z"]),
            true,
        ),
        (
            "DateLessThan",
            "aws:CurrentTime",
            r#""2025-01-31T00:00:00Z""#,
            Some(&["2025-01-31T00:00:00Z"]),
            false,
        ),
        (
            "DateLessThanEquals",
            "aws:CurrentTime",
            r#""2025-01-31T00:00:00Z""#,
            Some(&["2025-01-31T00:00:00Z"]),
            true,
        ),
        (
            "DateGreaterThan",
            "aws:EpochTime",
            "1738281600",
            Some(&["1738281601"]),
            true,
        ),
        (
            "DateGreaterThan",
            "aws:EpochTime",
            "1738281600",
            Some(&["1738281600"]),
            false,
        ),
        (
            "DateGreaterThanEquals",
            "aws:EpochTime",
            r#""2025-01-31T00:00:00Z""#,
            Some(&["1738281600"]),
            true,
        ),
        (
            "DateGreaterThanEquals",
            "s3:object-lock-retain-until-date",
            r#""2030-01-01T00:00:00Z""#,
            Some(&["2029-12-31T00:00:00Z"]),
            false,
        ),
        (
            "DateLessThan",
            "aws:CurrentTime",
            r#""2025-01-31T00:00:00Z""#,
            Some(&["not a date"]),
            false,
        ),
        ("Bool", "aws:SecureTransport", "true", Some(&["true"]), true),
        (
            "Bool",
            "aws:SecureTransport",
            r#""false""#,
            Some(&["TRUE"]),
            false,
        ),
        ("Bool", "aws:SecureTransport", "true", None, false),
        (
            "IpAddress",
            "aws:SourceIp",
            r#"["10.0.0.0/8","192.168.1.7"]"#,
            Some(&["10.20.30.40"]),
            true,
        ),
        (
            "IpAddress",
            "aws:SourceIp",
            r#"["10.0.0.0/8","192.168.1.7"]"#,
            Some(&["192.168.1.7"]),
            true,
        ),
        (
            "IpAddress",
            "aws:SourceIp",
            r#"["10.0.0.0/8","192.168.1.7"]"#,
            Some(&["192.168.1.8"]),
            false,
        ),
        (
            "IpAddress",
            "aws:SourceIp",
            r#""2001:db8::/32""#,
            Some(&["2001:db8::1"]),
            true,
        ),
        (
            "IpAddress",
            "aws:SourceIp",
            r#""2001:db8::/32""#,
            Some(&["2001:db9::1"]),
            false,
        ),
        (
            "IpAddress",
            "aws:SourceIp",
            r#""10.0.0.0/8""#,
            Some(&["::ffff:10.1.2.3"]),
            true,
        ),
        (
            "IpAddress",
            "aws:SourceIp",
            r#""10.0.0.0/8""#,
            Some(&["garbage"]),
            false,
        ),
        (
            "NotIpAddress",
            "aws:SourceIp",
            r#""10.0.0.0/8""#,
            Some(&["11.0.0.1"]),
            true,
        ),
        (
            "NotIpAddress",
            "aws:SourceIp",
            r#""10.0.0.0/8""#,
            Some(&["10.0.0.1"]),
            false,
        ),
        (
            "NotIpAddress",
            "aws:SourceIp",
            r#""10.0.0.0/8""#,
            None,
            true,
        ),
        (
            "Null",
            "s3:x-amz-server-side-encryption",
            "true",
            None,
            true,
        ),
        (
            "Null",
            "s3:x-amz-server-side-encryption",
            "true",
            Some(&["AES256"]),
            false,
        ),
        (
            "Null",
            "s3:x-amz-server-side-encryption",
            "false",
            Some(&["AES256"]),
            true,
        ),
        (
            "Null",
            "s3:x-amz-server-side-encryption",
            "false",
            Some(&[]),
            false,
        ),
    ];
    for (operator, key, values, request, want) in cases {
        assert_eq!(
            holds(operator, key, values, *request),
            *want,
            "{operator} {key} {values} {request:?}"
        );
    }
}

#[test]
fn if_exists_and_set_qualifiers() {
    let tags = "s3:RequestObjectTagKeys";
    let cases: &[(&str, &str, Option<&[&str]>, bool)] = &[
        ("StringEqualsIfExists", r#""a""#, None, true),
        ("StringEqualsIfExists", r#""a""#, Some(&["a"]), true),
        ("StringEqualsIfExists", r#""a""#, Some(&["b"]), false),
        ("StringNotLikeIfExists", r#""a*""#, Some(&["ab"]), false),
        ("NumericLessThanIfExists", "5", None, true),
        (
            "ForAllValues:StringEquals",
            r#"["a","b"]"#,
            Some(&["a"]),
            true,
        ),
        (
            "ForAllValues:StringEquals",
            r#"["a","b"]"#,
            Some(&["a", "b"]),
            true,
        ),
        (
            "ForAllValues:StringEquals",
            r#"["a","b"]"#,
            Some(&["a", "c"]),
            false,
        ),
        ("ForAllValues:StringEquals", r#"["a","b"]"#, None, true),
        (
            "ForAnyValue:StringEquals",
            r#"["a","b"]"#,
            Some(&["c", "a"]),
            true,
        ),
        (
            "ForAnyValue:StringEquals",
            r#"["a","b"]"#,
            Some(&["c"]),
            false,
        ),
        ("ForAnyValue:StringEquals", r#"["a","b"]"#, None, false),
        (
            "ForAnyValue:StringEqualsIfExists",
            r#"["a","b"]"#,
            None,
            true,
        ),
        (
            "ForAllValues:StringNotEquals",
            r#"["a"]"#,
            Some(&["x", "y"]),
            true,
        ),
        (
            "ForAllValues:StringNotEquals",
            r#"["a"]"#,
            Some(&["a", "x"]),
            false,
        ),
        (
            "ForAnyValue:StringNotEquals",
            r#"["a"]"#,
            Some(&["a", "x"]),
            true,
        ),
        (
            "ForAnyValue:StringNotEquals",
            r#"["a"]"#,
            Some(&["a"]),
            false,
        ),
        (
            "ForAnyValue:StringLike",
            r#""pre*""#,
            Some(&["x", "prefix"]),
            true,
        ),
        (
            "ForAllValues:StringLike",
            r#""pre*""#,
            Some(&["x", "prefix"]),
            false,
        ),
        // Without a qualifier, a multi-valued key matches when any value does (negated: none).
        ("StringEquals", r#""a""#, Some(&["x", "a"]), true),
        ("StringNotEquals", r#""a""#, Some(&["x", "a"]), false),
    ];
    for (operator, values, request, want) in cases {
        assert_eq!(
            holds(operator, tags, values, *request),
            *want,
            "{operator} {values} {request:?}"
        );
    }
    assert!(holds(
        "ForAnyValue:IpAddress",
        "aws:SourceIp",
        r#""10.0.0.0/8""#,
        Some(&["1.1.1.1", "10.0.0.1"])
    ));
    assert!(!holds(
        "ForAllValues:NumericLessThan",
        "s3:max-keys",
        "10",
        Some(&["5", "50"])
    ));
}

#[test]
fn condition_keys_ignore_case_but_tag_names_do_not() {
    assert!(holds(
        "IpAddress",
        "AWS:SOURCEIP",
        r#""10.0.0.0/8""#,
        Some(&["10.0.0.1"])
    ));
    assert!(holds("StringEquals", "S3:Prefix", r#""a""#, Some(&["a"])));
    let p = identity(&doc(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
            "Condition":{"StringEquals":{"s3:ExistingObjectTag/Team":"blue","jwt:Groups":"eng"}}}"#,
    ));
    let ctx = |tag: &str| {
        get("b", "k")
            .with_condition(ConditionKey::existing_object_tag(tag), ["blue"])
            .with_condition(ConditionKey::parse("jwt:groups").unwrap(), ["eng"])
    };
    assert_eq!(p.evaluate(&ctx("Team")), Allow);
    assert_eq!(p.evaluate(&ctx("team")), Default);
    assert_eq!(
        ConditionKey::parse("s3:existingObjectTag/Team"),
        Some(ConditionKey::existing_object_tag("Team"))
    );
    assert_eq!(
        ConditionKey::parse("S3:RequestObjectTag/Env"),
        Some(ConditionKey::request_object_tag("Env"))
    );
    for key in [
        "aws:SourceIp",
        "aws:SecureTransport",
        "aws:CurrentTime",
        "aws:EpochTime",
        "aws:username",
        "aws:userid",
        "aws:PrincipalType",
        "aws:Referer",
        "aws:UserAgent",
        "s3:prefix",
        "s3:delimiter",
        "s3:max-keys",
        "s3:versionid",
        "s3:x-amz-acl",
        "s3:x-amz-server-side-encryption",
        "s3:x-amz-storage-class",
        "s3:object-lock-mode",
        "s3:object-lock-retain-until-date",
        "s3:signatureversion",
        "s3:authType",
        "s3:RequestObjectTagKeys",
        "ldap:user",
        "jwt:sub",
    ] {
        assert!(ConditionKey::parse(key).is_some(), "{key}");
        assert!(holds("Null", key, "true", None), "{key}");
    }
    assert_eq!(ConditionKey::parse("jwt:"), None);
}

#[test]
fn bucket_policy_principals() {
    let p = bucket_policy(
        &doc(
            r#"{"Sid":"public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/public/*"},
               {"Effect":"Allow","Principal":{"AWS":["AKALICE","arn:aws:iam::123456789012:user/team/bob"]},"Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]},
               {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"},
               {"Effect":"Deny","NotPrincipal":{"AWS":["AKALICE"]},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/*"}"#,
        ),
        "b",
    );
    let alice = |ctx: RequestContext| ctx.with_user("alice", "AKALICE");
    let bob = |ctx: RequestContext| ctx.with_user("bob", "AKBOB");
    let carol = |ctx: RequestContext| ctx.with_user("carol", "AKCAROL");
    let table = [
        (get("b", "public/x"), Allow),
        (get("b", "private/x"), Default),
        (alice(get("b", "private/x")), Allow),
        (bob(get("b", "private/x")), Allow),
        (carol(get("b", "private/x")), Default),
        (carol(on_bucket(Action::ListBucket, "b")), Allow),
        (on_bucket(Action::ListBucket, "b"), Default),
        (alice(on_object(Action::DeleteObject, "b", "x")), Allow),
        (bob(on_object(Action::DeleteObject, "b", "x")), Deny),
        (on_object(Action::DeleteObject, "b", "x"), Deny),
        // Bucket policies cover s3 actions only.
        (alice(RequestContext::new(Action::AdminServerInfo)), Default),
    ];
    for (ctx, want) in table {
        assert_eq!(
            p.evaluate(&ctx),
            want,
            "{} {:?}",
            ctx.resource(),
            ctx.values()
        );
    }
    let aws_star = bucket_policy(
        &doc(
            r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
        ),
        "b",
    );
    assert_eq!(aws_star.evaluate(&get("b", "k")), Allow);
    // A bucket policy only speaks for its own bucket, even with a resource that reaches further.
    let wide = bucket_policy(
        &doc(r#"{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::*"}"#),
        "b",
    );
    assert_eq!(wide.evaluate(&get("b", "k")), Allow);
    assert_eq!(wide.evaluate(&get("other", "k")), Default);
    assert_eq!(
        wide.evaluate(&RequestContext::new(Action::ListAllMyBuckets)),
        Default
    );
}

#[test]
fn authorize_combines_identity_session_and_bucket_policies() {
    let read_write = identity(&doc(
        r#"{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b/*"}"#,
    ));
    let deny_secret = identity(&doc(
        r#"{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::b/secret/*"}"#,
    ));
    let session_read = identity(&doc(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#,
    ));
    let public_read = bucket_policy(
        &doc(
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
        ),
        "b",
    );
    let bucket_deny_put = bucket_policy(
        &doc(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}"#,
        ),
        "b",
    );
    let user = |ctx: RequestContext| ctx.with_user("alice", "AKALICE");
    let put = |key: &str| user(on_object(Action::PutObject, "b", key));

    assert_eq!(authorize([&read_write], None, None, &put("x")), Allow);
    // A group's Deny overrides the user's Allow.
    assert_eq!(
        authorize([&read_write, &deny_secret], None, None, &put("secret/x")),
        Deny
    );
    // The session policy narrows: PutObject is not in it.
    assert_eq!(
        authorize([&read_write], Some(&session_read), None, &put("x")),
        Default
    );
    assert_eq!(
        authorize(
            [&read_write],
            Some(&session_read),
            None,
            &user(get("b", "x"))
        ),
        Allow
    );
    // A session policy alone grants nothing.
    assert_eq!(
        authorize([], Some(&session_read), None, &user(get("b", "x"))),
        Default
    );
    // The bucket policy grants on its own, to anonymous callers too…
    assert_eq!(
        authorize([], None, Some(&public_read), &get("b", "x")),
        Allow
    );
    assert_eq!(
        authorize([], None, Some(&public_read), &user(get("b", "x"))),
        Allow
    );
    // …but not past a session policy that leaves the action out.
    let session_put = identity(&doc(
        r#"{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}"#,
    ));
    assert_eq!(
        authorize(
            [],
            Some(&session_put),
            Some(&public_read),
            &user(get("b", "x"))
        ),
        Default
    );
    // A bucket Deny overrides identity Allows.
    assert_eq!(
        authorize([&read_write], None, Some(&bucket_deny_put), &put("x")),
        Deny
    );
    assert_eq!(authorize([], None, None, &put("x")), Default);
}

// ---- round trip ----

#[test]
fn to_json_round_trips_a_rich_policy() {
    let json = doc(
        r#"{"Sid":"home","Effect":"Allow","Action":["s3:Get*","s3:ListBucket"],"Resource":["arn:aws:s3:::home/${aws:username}/*"],
            "Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*"]},"ForAllValues:StringEqualsIfExists":{"s3:RequestObjectTagKeys":["a","b"]},
                         "NumericLessThan":{"s3:max-keys":100},"Bool":{"aws:SecureTransport":true},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","::1"]},
                         "DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"Null":{"s3:x-amz-acl":"true"}}},
           {"Effect":"Deny","NotAction":"s3:GetObject","NotResource":"arn:aws:s3:::home/*"},
           {"Effect":"Allow","Action":"admin:ServerInfo"}"#,
    );
    let p = identity(&json);
    let again = identity(&p.to_json());
    assert_eq!(p, again);
    assert_eq!(p.to_json(), again.to_json());

    let b = bucket_policy(
        &doc(
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
                {"Effect":"Deny","NotPrincipal":{"AWS":"AKALICE"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/*"}"#,
        ),
        "b",
    );
    assert_eq!(
        b.to_json(),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*"]},{"Effect":"Deny","NotPrincipal":{"AWS":["AKALICE"]},"Action":["s3:DeleteObject"],"Resource":["arn:aws:s3:::b/*"]}]}"#
    );
    assert_eq!(
        Policy::parse_bucket(b.to_json().as_bytes(), "b").unwrap(),
        b
    );
}

// ---- patterns ----

/// The obviously-correct recursive glob matcher the compiled one is checked against.
fn reference_match(pattern: &[char], input: &[char]) -> bool {
    match pattern.split_first() {
        None => input.is_empty(),
        Some(('*', rest)) => (0..=input.len()).any(|i| reference_match(rest, &input[i..])),
        Some(('?', rest)) => !input.is_empty() && reference_match(rest, &input[1..]),
        Some((c, rest)) => input.first() == Some(c) && reference_match(rest, &input[1..]),
    }
}

#[test]
fn pattern_backtracking_cases() {
    let m = |p: &str, s: &str| {
        Pattern::compile(p, Syntax::WILDCARDS)
            .unwrap()
            .could_match(s)
    };
    assert!(m("a*b*c", "axxbxxbxc"));
    assert!(!m("a*b*c", "axxbxxbx"));
    assert!(m("*", ""));
    assert!(m("**a", "a"));
    assert!(!m("?", ""));
    assert!(m("*.jpg", "x.jpg.jpg"));
    assert!(m("é?", "éé"));
    let fold = Pattern::compile("ABC", Syntax::WILDCARDS).unwrap();
    assert!(fold.matches_ignore_case("abc"));
    assert!(!fold.matches_ignore_case("abcd"));
}

fn glob_strategy() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![Just('a'), Just('b'), Just('/'), Just('*'), Just('?')],
        0..8,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn text_strategy() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![Just('a'), Just('b'), Just('/'), Just('é')],
        0..10,
    )
    .prop_map(|v| v.into_iter().collect())
}

// ---- properties ----

/// A statement that grants something, chosen from a few shapes.
fn allow_statement() -> impl Strategy<Value = String> {
    let actions = prop_oneof![
        Just(r#""s3:*""#),
        Just(r#""*""#),
        Just(r#"["s3:GetObject","s3:PutObject"]"#),
        Just(r#""s3:Get*""#),
    ];
    let resources = prop_oneof![
        Just(r#""*""#),
        Just(r#""arn:aws:s3:::b/*""#),
        Just(r#""arn:aws:s3:::b/${aws:username}*""#),
        Just(r#""arn:aws:s3:::*""#),
    ];
    (actions, resources)
        .prop_map(|(a, r)| format!(r#"{{"Effect":"Allow","Action":{a},"Resource":{r}}}"#))
}

fn policy_of(statements: &[String]) -> String {
    doc(&statements.join(","))
}

/// One statement for the round-trip property, every element drawn from valid shapes.
fn any_statement() -> impl Strategy<Value = String> {
    let effect = prop_oneof![Just("Allow"), Just("Deny")];
    let action = prop_oneof![
        Just(r#""Action":"s3:GetObject""#),
        Just(r#""NotAction":["s3:Delete*","s3:PutObject"]"#),
        Just(r#""Action":["s3:*Object","s3:ListBucket"]"#),
    ];
    let resource = prop_oneof![
        Just(r#""Resource":"*""#),
        Just(r#""NotResource":["arn:aws:s3:::b/${aws:username}/*","arn:aws:s3:::c"]"#),
        Just(r#""Resource":"arn:aws:s3:::b/${*}?""#),
    ];
    let condition = prop_oneof![
        Just(""),
        Just(r#","Condition":{"StringLike":{"s3:prefix":["a/*","b"]}}"#),
        Just(
            r#","Condition":{"NumericGreaterThan":{"s3:max-keys":5},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#
        ),
        Just(
            r#","Condition":{"ForAnyValue:StringEqualsIgnoreCase":{"s3:RequestObjectTagKeys":["X"]},"Null":{"aws:Referer":false}}"#
        ),
        Just(
            r#","Condition":{"DateGreaterThanEquals":{"aws:CurrentTime":["2024-01-01T00:00:00Z",1700000000]}}"#
        ),
    ];
    let sid = prop_oneof![
        Just(String::new()),
        "[a-z]{1,6}".prop_map(|s| format!(r#""Sid":"{s}","#))
    ];
    (sid, effect, action, resource, condition)
        .prop_map(|(sid, e, a, r, c)| format!(r#"{{{sid}"Effect":"{e}",{a},{r}{c}}}"#))
}

proptest! {
    #[test]
    fn compiled_patterns_agree_with_the_reference(pattern in glob_strategy(), input in text_strategy()) {
        let compiled = Pattern::compile(&pattern, Syntax::WILDCARDS).unwrap();
        let p: Vec<char> = pattern.chars().collect();
        let s: Vec<char> = input.chars().collect();
        prop_assert_eq!(compiled.could_match(&input), reference_match(&p, &s));
    }

    #[test]
    fn an_explicit_deny_is_never_overridden(
        allows in proptest::collection::vec(allow_statement(), 0..12),
        num_policies in 1usize..5,
        deny_at in 0usize..100,
        use_session in any::<bool>(),
        use_bucket in any::<bool>(),
    ) {
        // Spread the Allows over several identity policies and insert one applicable Deny into
        // one of them (or into the session or bucket policy).
        let mut groups: Vec<Vec<String>> = vec![Vec::new(); num_policies + 2];
        for (i, allow) in allows.into_iter().enumerate() {
            groups[i % num_policies].push(allow);
        }
        let deny = r#"{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/k"}"#;
        let target = deny_at % (num_policies + 2);
        let position = deny_at % (groups[target].len() + 1);
        groups[target].insert(position, deny.to_owned());
        let filler = r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#.to_owned();
        let to_policy = |g: &Vec<String>| identity(&policy_of(if g.is_empty() { std::slice::from_ref(&filler) } else { g }));
        let identities: Vec<Policy> = groups[..num_policies].iter().map(to_policy).collect();
        let session = (use_session || target == num_policies).then(|| to_policy(&groups[num_policies]));
        let bucket_statements: Vec<String> = groups[num_policies + 1]
            .iter()
            .map(|s| s.replacen('{', r#"{"Principal":"*","#, 1).replace(r#""Resource":"*""#, r#""Resource":"arn:aws:s3:::b/*""#).replace(r#""Action":"*""#, r#""Action":"s3:*""#).replace(r#""Resource":"arn:aws:s3:::*""#, r#""Resource":"arn:aws:s3:::b*""#))
            .collect();
        let bucket = (use_bucket || target == num_policies + 1).then(|| {
            let statements = if bucket_statements.is_empty() {
                vec![r#"{"Principal":"*","Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}"#.to_owned()]
            } else {
                bucket_statements
            };
            bucket_policy(&policy_of(&statements), "b")
        });
        let ctx = get("b", "k").with_user("alice", "AKALICE");
        prop_assert_eq!(authorize(&identities, session.as_ref(), bucket.as_ref(), &ctx), Deny);
    }

    #[test]
    fn parse_serialize_parse_round_trips(statements in proptest::collection::vec(any_statement(), 1..5), version in prop_oneof![Just("2012-10-17"), Just("2008-10-17")]) {
        // Sids must be unique: number the ones drawn.
        let statements: Vec<String> = statements
            .into_iter()
            .enumerate()
            .map(|(i, s)| s.replacen(r#""Sid":""#, &format!(r#""Sid":"s{i}"#), 1))
            .collect();
        let json = format!(r#"{{"Version":"{version}","Statement":[{}]}}"#, statements.join(","));
        let first = identity(&json);
        let second = identity(&first.to_json());
        prop_assert_eq!(&first, &second);
        prop_assert_eq!(first.to_json(), second.to_json());
    }
}

#[test]
fn a_bucket_policy_is_public_when_it_lets_anyone_in_from_anywhere() {
    let statement = |principal: &str, condition: &str| {
        bucket_policy(
            &doc(&format!(
                r#"{{"Effect":"Allow","Principal":{principal},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"{condition}}}"#
            )),
            "b",
        )
    };
    assert!(statement(r#""*""#, "").is_public());
    assert!(statement(r#"{"AWS":["*"]}"#, "").is_public());
    assert!(
        statement(
            r#""*""#,
            r#","Condition":{"Bool":{"aws:SecureTransport":"true"}}"#
        )
        .is_public(),
        "TLS only is still anyone"
    );
    assert!(!statement(r#"{"AWS":["alice"]}"#, "").is_public());
    assert!(!statement(
        r#""*""#,
        r#","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#
    )
    .is_public());
    let deny_only = bucket_policy(
        &doc(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
        ),
        "b",
    );
    assert!(!deny_only.is_public());
}

#[test]
fn policies_say_whether_they_read_existing_object_tags() {
    let by_tag = identity(&doc(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/Team":"blue"}}}"#,
    ));
    assert!(by_tag.reads_existing_object_tags());
    let by_ip = identity(&doc(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}"#,
    ));
    assert!(!by_ip.reads_existing_object_tags());
}
