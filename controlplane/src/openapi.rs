//! The OpenAPI 3.1 document served at `/v1/openapi.json`, written by hand from one operation
//! list. A test checks that its operations are exactly the router's route table, and the
//! end-to-end suite calls every documented operation and checks the answer is documented.

use crate::api::ErrorCode;
use crate::routes::Access;
use serde_json::{json, Value};

/// One documented operation.
struct Op {
    method: &'static str,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    /// Success status and its schema (`None`: no body, or not JSON).
    ok: (u16, Option<&'static str>),
    query: &'static [(&'static str, &'static str)],
    access: Access,
}

/// An operation that needs a token: `read` for `get`, else `admin`.
fn op(
    method: &'static str,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    ok: (u16, Option<&'static str>),
) -> Op {
    Op {
        method,
        path,
        id,
        summary,
        body,
        ok,
        query: &[],
        access: if method == "get" {
            Access::Read
        } else {
            Access::Admin
        },
    }
}

const EVENT_QUERY: &[(&str, &str)] = &[
    ("cluster", "only events of this cluster"),
    ("node", "only events of this node"),
    ("kind", "only events of this kind"),
    ("since", "RFC 3339 time, inclusive"),
    ("until", "RFC 3339 time, exclusive"),
    (
        "after",
        "event id: return events after it (the previous page's next_after)",
    ),
    ("limit", "1-1000, default 100"),
];

const AUDIT_QUERY: &[(&str, &str)] = &[
    ("after", "entry id: return entries after it"),
    ("limit", "1-1000, default 100"),
];

fn ops() -> Vec<Op> {
    vec![
        Op {
            access: Access::Public,
            ..op(
                "get",
                "/live",
                "live",
                "Liveness: 200 when the process serves HTTP",
                None,
                (200, None),
            )
        },
        Op {
            access: Access::Public,
            ..op(
                "get",
                "/metrics",
                "metrics",
                "Prometheus metrics of the control plane",
                None,
                (200, None),
            )
        },
        Op {
            access: Access::Public,
            ..op(
                "get",
                "/v1/openapi.json",
                "openapi",
                "This document",
                None,
                (200, None),
            )
        },
        op(
            "get",
            "/v1/clusters",
            "listClusters",
            "List registered clusters",
            None,
            (200, Some("ClusterList")),
        ),
        op(
            "get",
            "/v1/clusters/{cluster}",
            "getCluster",
            "One cluster",
            None,
            (200, Some("Cluster")),
        ),
        op(
            "put",
            "/v1/clusters/{cluster}",
            "registerCluster",
            "Register or update a cluster's topology (idempotent; 201 when created)",
            Some("RegisterCluster"),
            (200, Some("RegisterResponse")),
        ),
        op(
            "delete",
            "/v1/clusters/{cluster}",
            "deleteCluster",
            "Forget a cluster (events stay)",
            None,
            (204, None),
        ),
        op(
            "get",
            "/v1/clusters/{cluster}/health",
            "clusterHealth",
            "Health summary: nodes up/down, sets and tolerance, offline drives",
            None,
            (200, Some("HealthSummary")),
        ),
        op(
            "get",
            "/v1/clusters/{cluster}/nodes",
            "listNodes",
            "Nodes with their observed state",
            None,
            (200, Some("NodeList")),
        ),
        op(
            "get",
            "/v1/clusters/{cluster}/nodes/{node}",
            "getNode",
            "One node",
            None,
            (200, Some("Node")),
        ),
        op(
            "get",
            "/v1/clusters/{cluster}/drives",
            "listDrives",
            "Drives with their observed state",
            None,
            (200, Some("DriveList")),
        ),
        op(
            "get",
            "/v1/sites",
            "listSites",
            "Sites and their clusters",
            None,
            (200, Some("SiteList")),
        ),
        op(
            "get",
            "/v1/sites/{site}",
            "getSite",
            "One site",
            None,
            (200, Some("Site")),
        ),
        Op {
            query: EVENT_QUERY,
            ..op(
                "get",
                "/v1/events",
                "listEvents",
                "Events, filtered and paginated by id",
                None,
                (200, Some("EventPage")),
            )
        },
        Op {
            query: AUDIT_QUERY,
            ..op(
                "get",
                "/v1/audit",
                "listAudit",
                "Audit trail of authenticated mutating calls",
                None,
                (200, Some("AuditPage")),
            )
        },
        op(
            "get",
            "/v1/releases",
            "listReleases",
            "Kept release binaries, newest first",
            None,
            (200, Some("ReleaseList")),
        ),
        op(
            "post",
            "/v1/releases",
            "createRelease",
            "Keep a release binary from a path on the control plane's machine or a URL; kept only when its sha256 matches (200: kept already; 409: that version names another build)",
            Some("CreateRelease"),
            (201, Some("CreatedRelease")),
        ),
        op(
            "get",
            "/v1/releases/{version}",
            "getRelease",
            "One release, an entry per architecture",
            None,
            (200, Some("ReleaseList")),
        ),
        op(
            "delete",
            "/v1/releases/{version}",
            "deleteRelease",
            "Forget a release (every architecture) and delete binaries no other release names",
            None,
            (204, None),
        ),
        op(
            "get",
            "/v1/tokens",
            "listTokens",
            "API tokens with their scope and expiry (never their secrets)",
            None,
            (200, Some("TokenList")),
        ),
        op(
            "post",
            "/v1/tokens",
            "createToken",
            "Create a `read` or `admin` token, optionally expiring; the secret is shown only in this answer",
            Some("CreateToken"),
            (201, Some("CreatedToken")),
        ),
        op(
            "delete",
            "/v1/tokens/{id}",
            "revokeToken",
            "Revoke a token (409 for the last working admin token)",
            None,
            (204, None),
        ),
    ]
}

/// `(method, path)` of every documented operation (method upper-case).
pub fn documented_routes() -> Vec<(String, String)> {
    ops()
        .into_iter()
        .map(|o| (o.method.to_uppercase(), o.path.to_string()))
        .collect()
}

/// Cluster and site names.
const NAME_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,62}$";
/// Node names.
const NODE_PATTERN: &str = "^[A-Za-z0-9._-]{1,253}$";

/// The schema of a path or query parameter, by name.
fn param_schema(name: &str) -> Value {
    match name {
        "cluster" | "site" => json!({"type": "string", "pattern": NAME_PATTERN}),
        "node" => json!({"type": "string", "pattern": NODE_PATTERN}),
        "id" => json!({"type": "string", "pattern": "^[0-9a-fA-F]{16}$"}),
        "kind" => json!({"type": "string", "enum": crate::api::event_kind::ALL}),
        "since" | "until" => json!({"type": "string", "format": "date-time"}),
        "after" => json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}),
        "limit" => json!({"type": "integer", "minimum": 1, "maximum": 1000}),
        _ => s(),
    }
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn obj(required: &[&str], props: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": props })
}

fn s() -> Value {
    json!({"type": "string"})
}

fn ns() -> Value {
    json!({"type": ["string", "null"]})
}

fn int() -> Value {
    json!({"type": "integer"})
}

fn nint() -> Value {
    json!({"type": ["integer", "null"]})
}

fn arr(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

fn schemas() -> Value {
    let cluster_status =
        json!({"type": "string", "enum": ["unknown", "healthy", "degraded", "read_only", "down"]});
    let erasure = json!({"type": "object", "additionalProperties": false, "properties": {
        "set_drive_count": {"type": ["integer", "null"], "minimum": 0, "maximum": 4_294_967_295u64},
        "parity": {"type": ["integer", "null"], "minimum": 0, "maximum": 4_294_967_295u64}}});
    let node = obj(
        &["name", "address", "s3_port", "pool", "state", "drives"],
        json!({"name": s(), "address": s(), "s3_port": int(), "pool": int(),
               "state": {"type": "string", "enum": ["unknown", "up", "down"]},
               "version": ns(), "last_seen": ns(), "last_error": ns(), "drives": arr(s())}),
    );
    let drive = obj(
        &["node", "path", "state"],
        json!({"node": s(), "path": s(), "pool": nint(), "set": nint(),
               "state": {"type": "string", "enum": ["unknown", "online", "offline"]},
               "total_bytes": nint(), "used_bytes": nint(), "free_bytes": nint(), "last_change": ns()}),
    );
    let set = obj(
        &[
            "pool",
            "set",
            "data",
            "parity",
            "read_quorum",
            "write_quorum",
            "drives_total",
            "drives_online",
            "read_tolerance",
            "write_tolerance",
        ],
        json!({"pool": int(), "set": int(), "data": int(), "parity": int(), "read_quorum": int(),
               "write_quorum": int(), "drives_total": int(), "drives_online": int(),
               "read_tolerance": int(), "write_tolerance": int()}),
    );
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let scope = json!({"type": "string", "enum": ["read", "admin"],
        "description": "read: GET routes only; admin: every route"});
    json!({
        "Error": obj(&["code", "message"], json!({"code": {"type": "string", "enum": codes}, "message": s()})),
        "RegisterCluster": {
            "type": "object", "additionalProperties": false, "required": ["credentials", "pools"],
            "description": "Also: node names (name, else address) and address:port pairs are unique in the cluster.",
            "properties": {
                "site": {"type": "string", "pattern": NAME_PATTERN, "default": "default"},
                "version": {"type": ["string", "null"], "pattern": "^[^\\s]{1,64}$"},
                "scheme": {"type": "string", "enum": ["http", "https"], "default": "http"},
                "ca_pem": {"type": ["string", "null"], "pattern": "-----BEGIN CERTIFICATE-----", "maxLength": 65536,
                    "description": "PEM of the cluster CA (one or more certificates, each must parse); https nodes are polled trusting exactly these"},
                "erasure": erasure,
                "s3_endpoints": arr(json!({"type": "string", "pattern": "^https?://", "maxLength": 2048})),
                "credentials": {"type": "object", "additionalProperties": false,
                    "required": ["access_key", "secret_key"],
                    "properties": {"access_key": {"type": "string", "minLength": 1, "maxLength": 128},
                                   "secret_key": {"type": "string", "minLength": 1, "maxLength": 128}}},
                "deploy_key": {"type": ["string", "null"], "maxLength": 16384, "pattern": "^\\s*-----BEGIN OPENSSH PRIVATE KEY-----",
                    "description": "The control plane's SSH deploy key (private); sealed at rest, never answered"},
                "pools": {"type": "array", "minItems": 1, "items": {"type": "object", "additionalProperties": false, "required": ["hosts"],
                    "properties": {"hosts": {"type": "array", "minItems": 1, "items": {"type": "object", "additionalProperties": false,
                        "required": ["address", "drives"],
                        "properties": {"name": {"type": ["string", "null"], "pattern": NODE_PATTERN},
                            "address": {"type": "string", "pattern": "^[A-Za-z0-9.:\\[\\]-]{1,253}$"},
                            "s3_port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 9000},
                            "drives": {"type": "array", "minItems": 1, "uniqueItems": true,
                                "items": {"type": "string", "pattern": "^/[^\\u0000]*$", "not": {"pattern": "(^|/)\\.\\.(/|$)"}}},
                            "access": {"type": ["object", "null"], "additionalProperties": false, "required": ["connection", "install_dir"],
                                "description": "How the control plane runs the host's upgrade verbs; ssh needs deploy_key and host_key",
                                "properties": {"connection": {"type": "string", "enum": ["ssh", "local"]},
                                    "install_dir": {"type": "string", "pattern": "^/"},
                                    "ssh_port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 22},
                                    "ssh_user": {"type": "string", "pattern": "^[a-z_][a-z0-9_-]{0,31}$", "default": "rustfs"},
                                    "host_key": {"type": ["string", "null"], "pattern": "^SHA256:"}}}}}}}}}
            }
        },
        "RegisterResponse": obj(&["created", "changed", "cluster"], json!({"created": {"type": "boolean"}, "changed": {"type": "boolean"}, "cluster": schema_ref("Cluster")})),
        "Cluster": obj(
            &["name", "site", "scheme", "erasure", "s3_endpoints", "pools", "created_at", "updated_at", "status", "has_credentials"],
            json!({"name": s(), "site": s(), "version": ns(), "scheme": {"type": "string", "enum": ["http", "https"]}, "ca_pem": ns(),
                   "erasure": erasure, "s3_endpoints": arr(s()),
                   "pools": arr(obj(&["index", "hosts"], json!({"index": int(), "hosts": arr(s())}))),
                   "created_at": s(), "updated_at": s(), "status": cluster_status, "has_credentials": {"type": "boolean"}}),
        ),
        "ClusterList": obj(&["clusters"], json!({"clusters": arr(schema_ref("Cluster"))})),
        "Node": node,
        "NodeList": obj(&["nodes"], json!({"nodes": arr(schema_ref("Node"))})),
        "Drive": drive,
        "DriveList": obj(&["drives"], json!({"drives": arr(schema_ref("Drive"))})),
        "HealthSummary": obj(
            &["cluster", "status", "nodes_total", "nodes_up", "nodes_down", "nodes_unknown", "drives_total", "drives_offline", "nodes", "sets", "offline_drives"],
            json!({"cluster": s(), "status": cluster_status, "observed_at": ns(),
                   "nodes_total": int(), "nodes_up": int(), "nodes_down": int(), "nodes_unknown": int(),
                   "drives_total": int(), "drives_offline": int(), "nodes": arr(schema_ref("Node")),
                   "sets": arr(set),
                   "offline_drives": arr(obj(&["node", "path"], json!({"node": s(), "path": s(), "pool": nint(), "set": nint()})))}),
        ),
        "Site": obj(&["name", "clusters", "created_at"], json!({"name": s(), "clusters": arr(s()), "created_at": s()})),
        "SiteList": obj(&["sites"], json!({"sites": arr(schema_ref("Site"))})),
        "EventPage": obj(&["events"], json!({"next_after": nint(), "events": arr(obj(
            &["id", "time", "kind", "message", "details"],
            json!({"id": int(), "time": s(), "cluster": ns(), "node": ns(), "drive": ns(), "kind": s(), "message": s(), "details": {}}),
        ))})),
        "AuditPage": obj(&["entries"], json!({"next_after": nint(), "entries": arr(obj(
            &["id", "time", "actor", "method", "path", "status"],
            json!({"id": int(), "time": s(), "actor": s(), "method": s(), "path": s(), "status": int(), "code": ns()}),
        ))})),
        "Token": obj(&["id", "name", "scope", "created_at"], json!({"id": s(), "name": s(), "scope": scope, "created_at": s(), "expires_at": ns(), "revoked_at": ns()})),
        "TokenList": obj(&["tokens"], json!({"tokens": arr(schema_ref("Token"))})),
        "Release": obj(&["version", "arch", "sha256", "size", "source", "created_at"],
            json!({"version": s(), "arch": s(), "sha256": s(), "size": int(), "source": s(), "created_at": s()})),
        "ReleaseList": obj(&["releases"], json!({"releases": arr(schema_ref("Release"))})),
        "CreatedRelease": obj(&["created", "release"], json!({"created": {"type": "boolean"}, "release": schema_ref("Release")})),
        "CreateRelease": {"type": "object", "additionalProperties": false, "required": ["version", "sha256"],
            "description": "Exactly one of path and url.",
            "properties": {
                "version": {"type": "string", "pattern": "^[A-Za-z0-9._+][A-Za-z0-9._+-]{0,63}$"},
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "arch": {"type": ["string", "null"], "enum": ["x86_64", "aarch64", null]},
                "path": {"type": ["string", "null"], "pattern": "^/", "description": "a file on the control plane's machine"},
                "url": {"type": ["string", "null"], "pattern": "^https?://", "maxLength": 2048}}},
        "CreateToken": {"type": "object", "additionalProperties": false, "required": ["name", "scope"], "properties": {
            "name": {"type": "string", "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]{1,64}$"},
            "scope": scope,
            "expires_at": {"type": ["string", "null"], "format": "date-time", "description": "RFC 3339, in the future; null or absent: never expires"}}},
        "CreatedToken": obj(&["id", "name", "scope", "created_at", "token"], json!({"id": s(), "name": s(), "scope": scope, "created_at": s(), "expires_at": ns(), "token": s()})),
    })
}

fn error_response(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": schema_ref("Error")}}})
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for o in ops() {
        let mut params: Vec<Value> = Vec::new();
        for seg in o.path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                params.push(json!({"name": name, "in": "path", "required": true, "schema": param_schema(name)}));
            }
        }
        for (name, desc) in o.query {
            params.push(json!({"name": name, "in": "query", "required": false, "description": desc, "schema": param_schema(name)}));
        }
        let mut responses = serde_json::Map::new();
        let ok = match o.ok.1 {
            Some(schema) => {
                json!({"description": "success", "content": {"application/json": {"schema": schema_ref(schema)}}})
            }
            None => json!({"description": "success"}),
        };
        responses.insert(o.ok.0.to_string(), ok);
        if o.id == "registerCluster" {
            responses.insert("201".into(), json!({"description": "created", "content": {"application/json": {"schema": schema_ref("RegisterResponse")}}}));
        }
        if o.access != Access::Public {
            responses.insert(
                "400".into(),
                error_response("invalid_json or invalid_argument"),
            );
            responses.insert(
                "401".into(),
                error_response("unauthorized: no token, or an unknown, revoked or expired one"),
            );
            responses.insert("404".into(), error_response("not_found"));
            responses.insert("503".into(), error_response("unavailable"));
        }
        if o.body.is_some() {
            responses.insert("413".into(), error_response("payload_too_large"));
            responses.insert("415".into(), error_response("unsupported_media_type"));
        }
        if o.access == Access::Admin {
            responses.insert(
                "403".into(),
                error_response("forbidden: a read token on a route that needs admin"),
            );
        }
        if o.id == "revokeToken" {
            responses.insert(
                "409".into(),
                error_response("conflict: the last working admin token"),
            );
        }
        let mut operation = json!({
            "operationId": o.id,
            "summary": o.summary,
            "parameters": params,
            "responses": responses,
        });
        if let Some(body) = o.body {
            operation["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": schema_ref(body)}}});
        }
        // OpenAPI 3.1 lets an http scheme's requirement name roles: the scope needed
        operation["security"] = match o.access.scope() {
            None => json!([]),
            Some(scope) => json!([{"bearer": [scope.as_str()]}]),
        };
        let entry = paths.entry(o.path.to_string()).or_insert_with(|| json!({}));
        entry[o.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "RustFS control plane",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Topology, health and events of RustFS clusters. Every operation but the public ones needs `Authorization: Bearer <token>`; its security requirement names the token scope it needs (read: GET routes; admin: everything). Errors are {\"code\",\"message\"} with a closed set of codes."
        },
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas(),
        },
        "paths": paths,
    })
}

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod tests;
