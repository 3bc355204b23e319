//! Policy evaluation benchmarks: `cargo bench -p rustfs-common --bench policy`.
//!
//! What one authorization costs on the request path: a canned `readonly` GetObject check; a
//! user with 3 policies of 10 statements each; 200 policies loaded with a user attached to 5 of
//! them (name lookup included); one statement with IP, prefix and date conditions. Parsing a
//! 10-statement document is measured too, for policy-heavy admin operations.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rustfs_common::policy::{
    authorize, canned, Action, ConditionKey, Decision, Policy, RequestContext,
};

/// A 10-statement policy: Allows over buckets `{tag}-0` … `{tag}-8`, then one Deny.
fn ten_statements(tag: &str) -> String {
    let mut statements: Vec<String> = (0..9)
        .map(|i| {
            format!(
                r#"{{"Sid":"s{i}","Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:List*"],"Resource":["arn:aws:s3:::{tag}-{i}","arn:aws:s3:::{tag}-{i}/*"]}}"#
            )
        })
        .collect();
    statements.push(format!(
        r#"{{"Sid":"deny","Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::{tag}-*/locked/*"}}"#
    ));
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

fn parse(json: &str) -> Policy {
    Policy::parse_identity(json.as_bytes()).unwrap()
}

fn bench(c: &mut Criterion) {
    let ctx = RequestContext::new(Action::GetObject)
        .with_object("photos", "2024/summer/beach.jpg")
        .with_user("alice", "AKIAALICE");

    let readonly = canned::readonly();
    assert_eq!(readonly.evaluate(&ctx), Decision::Allow);
    c.bench_function("canned_readonly_get_object", |b| {
        b.iter(|| black_box(readonly.evaluate(black_box(&ctx))))
    });

    // The request matches the last Allow of the last policy: every statement before it is tried.
    let three: Vec<Policy> = ["a", "b", "c"]
        .iter()
        .map(|t| parse(&ten_statements(t)))
        .collect();
    let ctx_last = RequestContext::new(Action::GetObject)
        .with_object("c-8", "2024/summer/beach.jpg")
        .with_user("alice", "AKIAALICE");
    assert_eq!(authorize(&three, None, None, &ctx_last), Decision::Allow);
    c.bench_function("user_3_policies_x_10_statements", |b| {
        b.iter(|| black_box(authorize(&three, None, None, black_box(&ctx_last))))
    });

    let store: HashMap<String, Policy> = (0..200)
        .map(|i| {
            let name = format!("policy-{i}");
            let policy = parse(&ten_statements(&format!("p{i}")));
            (name, policy)
        })
        .collect();
    let attached: Vec<String> = [3, 50, 99, 150, 199]
        .iter()
        .map(|i| format!("policy-{i}"))
        .collect();
    let ctx_store = RequestContext::new(Action::PutObject)
        .with_object("p199-4", "uploads/file.bin")
        .with_user("alice", "AKIAALICE");
    let lookup = || attached.iter().filter_map(|name| store.get(name));
    assert_eq!(lookup().count(), 5);
    assert_eq!(authorize(lookup(), None, None, &ctx_store), Decision::Allow);
    c.bench_function("200_loaded_user_attached_to_5", |b| {
        b.iter(|| black_box(authorize(lookup(), None, None, black_box(&ctx_store))))
    });

    let conditional = parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::home",
            "Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},
                         "StringLike":{"s3:prefix":["home/${aws:username}/*"]},
                         "DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}]}"#,
    );
    let ctx_cond = RequestContext::new(Action::ListBucket)
        .with_bucket("home")
        .with_user("alice", "AKIAALICE")
        .with_condition(ConditionKey::SOURCE_IP, ["10.1.2.3"])
        .with_condition(ConditionKey::PREFIX, ["home/alice/docs/"])
        .with_condition(ConditionKey::CURRENT_TIME, ["2025-06-01T12:00:00Z"]);
    assert_eq!(conditional.evaluate(&ctx_cond), Decision::Allow);
    c.bench_function("statement_with_ip_prefix_date_conditions", |b| {
        b.iter(|| black_box(conditional.evaluate(black_box(&ctx_cond))))
    });

    let doc = ten_statements("x");
    c.bench_function("parse_10_statement_policy", |b| {
        b.iter(|| black_box(Policy::parse_identity(black_box(doc.as_bytes())).unwrap()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
