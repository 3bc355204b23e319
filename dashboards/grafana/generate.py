#!/usr/bin/env python3
"""Writes the Grafana dashboards of this folder (one JSON per role) from the panel lists below.

Edit the lists, run `python3 dashboards/grafana/generate.py`, commit the JSON. Every query is
checked by `cargo test -p rustfs-tests --test observability` (parses as PromQL with promtool and
references only documented metrics).
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
SEL = 'job="$job"'
SELI = 'job="$job", instance=~"$instance"'


def panel(kind, title, targets, unit="short", w=12, h=8, desc="", **extra):
    p = {
        "type": kind,
        "title": title,
        "description": desc,
        "datasource": DS,
        "gridPos": {"w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"datasource": DS, "expr": e, "legendFormat": l, "refId": chr(65 + i)}
            for i, (e, l) in enumerate(targets)
        ],
    }
    if kind == "stat":
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "value"}
    p.update(extra)
    return p


def stat(title, expr, unit="short", desc="", thresholds=None):
    p = panel("stat", title, [(expr, "")], unit=unit, w=4, h=4, desc=desc)
    if thresholds:
        p["fieldConfig"]["defaults"]["thresholds"] = {
            "mode": "absolute",
            "steps": [{"color": c, "value": v} for v, c in thresholds],
        }
    return p


def ts(title, targets, unit="short", desc="", w=12):
    return panel("timeseries", title, targets, unit=unit, w=w, desc=desc)


def variables(with_instance):
    v = [
        {
            "name": "job",
            "label": "Cluster (job)",
            "type": "query",
            "datasource": DS,
            "query": {"query": "label_values(rustfs_build_info, job)", "refId": "job"},
            "definition": "label_values(rustfs_build_info, job)",
            "refresh": 2,
            "current": {"text": "rustfs", "value": "rustfs"},
        }
    ]
    if with_instance:
        v.append(
            {
                "name": "instance",
                "label": "Node",
                "type": "query",
                "datasource": DS,
                "query": {
                    "query": 'label_values(rustfs_build_info{job="$job"}, instance)',
                    "refId": "instance",
                },
                "definition": 'label_values(rustfs_build_info{job="$job"}, instance)',
                "includeAll": True,
                "multi": True,
                "allValue": ".+",
                "refresh": 2,
            }
        )
    return v


def layout(panels):
    x = y = row_h = 0
    for i, p in enumerate(panels):
        w, h = p["gridPos"]["w"], p["gridPos"]["h"]
        if x + w > 24:
            x, y, row_h = 0, y + row_h, 0
        p["gridPos"].update({"x": x, "y": y})
        p["id"] = i + 1
        x += w
        row_h = max(row_h, h)
    return panels


def controlplane_variables():
    return [
        {
            "name": "job",
            "label": "Control plane (job)",
            "type": "query",
            "datasource": DS,
            "query": {"query": "label_values(rustfs_controlplane_nodes, job)", "refId": "job"},
            "definition": "label_values(rustfs_controlplane_nodes, job)",
            "refresh": 2,
            "current": {"text": "rustfs-controlplane", "value": "rustfs-controlplane"},
        },
        {
            "name": "cluster",
            "label": "Cluster",
            "type": "query",
            "datasource": DS,
            "query": {
                "query": 'label_values(rustfs_controlplane_nodes{job="$job"}, cluster)',
                "refId": "cluster",
            },
            "definition": 'label_values(rustfs_controlplane_nodes{job="$job"}, cluster)',
            "includeAll": True,
            "multi": True,
            "allValue": ".+",
            "refresh": 2,
        },
    ]


def dashboard(uid, title, panels, with_instance=True, tags=(), templating=None):
    return {
        "__inputs": [
            {
                "name": "DS_PROMETHEUS",
                "label": "Prometheus",
                "description": "The Prometheus that scrapes the RustFS nodes",
                "type": "datasource",
                "pluginId": "prometheus",
                "pluginName": "Prometheus",
            }
        ],
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "9.0.0"},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
        ],
        "uid": uid,
        "title": title,
        "tags": ["rustfs", *tags],
        "timezone": "browser",
        "schemaVersion": 37,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": templating if templating is not None else variables(with_instance)},
        "annotations": {"list": []},
        "links": [{"title": "RustFS", "type": "dashboards", "tags": ["rustfs"], "asDropdown": True}],
        "panels": layout(panels),
    }


def q(expr):
    return expr.replace("SELI", SELI).replace("SEL", SEL)


overview = [
    stat("Nodes up", q('sum(up{SEL})'), desc="Nodes Prometheus can scrape",
         thresholds=[(None, "red"), (1, "green")]),
    stat("Nodes down", q('count(up{SEL} == 0) or vector(0)'),
         thresholds=[(None, "green"), (1, "red")]),
    stat("Drives online", q('min(rustfs_cluster_drives_online{SEL}) / max(rustfs_cluster_drives_total{SEL})'),
         unit="percentunit", thresholds=[(None, "red"), (0.99, "green")]),
    stat("Usable capacity", q('max(rustfs_cluster_capacity_usable_total_bytes{SEL})'), unit="bytes"),
    stat("Usable free", q('max(rustfs_cluster_capacity_usable_free_bytes{SEL})'), unit="bytes"),
    stat("Raw used", q('1 - max(rustfs_cluster_capacity_raw_free_bytes{SEL}) / max(rustfs_cluster_capacity_raw_total_bytes{SEL})'),
         unit="percentunit", thresholds=[(None, "green"), (0.8, "orange"), (0.9, "red")]),
    stat("Objects", q('sum(max by (pool, set) (rustfs_set_objects{SEL}))'),
         desc="Latest versions, counted on one drive per set about once a minute"),
    stat("Buckets", q('max(rustfs_cluster_buckets{SEL})')),
    stat("S3 requests/s", q('sum(rate(rustfs_s3_requests_total{SEL}[$__rate_interval]))'), unit="reqps"),
    stat("S3 5xx ratio", q('sum(rate(rustfs_s3_requests_total{SEL, status=~"5.."}[$__rate_interval])) / sum(rate(rustfs_s3_requests_total{SEL}[$__rate_interval]))'),
         unit="percentunit", thresholds=[(None, "green"), (0.01, "orange"), (0.05, "red")]),
    stat("Versions", q('count(count by (version) (rustfs_build_info{SEL}))'),
         desc="More than 1 outside a rolling upgrade means version skew",
         thresholds=[(None, "green"), (2, "orange")]),
    stat("Firing alerts", 'count(ALERTS{alertstate="firing", job="$job"}) or vector(0)',
         thresholds=[(None, "green"), (1, "red")]),
    ts("Write tolerance per erasure set (worst view)", [(q('min by (pool, set) (rustfs_set_write_tolerance{SEL})'), "pool {{pool}} set {{set}}")],
       desc="Drives each set can still lose and keep writing; below 0 writes fail"),
    ts("Online drives per erasure set (worst view)", [(q('min by (pool, set) (rustfs_set_drives_online{SEL})'), "pool {{pool}} set {{set}}"),
                                                      (q('max by (pool, set) (rustfs_set_drives_total{SEL})'), "pool {{pool}} set {{set}} total")]),
    ts("Capacity", [(q('max(rustfs_cluster_capacity_usable_total_bytes{SEL})'), "usable total"),
                    (q('max(rustfs_cluster_capacity_usable_total_bytes{SEL}) - max(rustfs_cluster_capacity_usable_free_bytes{SEL})'), "usable used"),
                    (q('max(rustfs_cluster_capacity_raw_total_bytes{SEL})'), "raw total")], unit="bytes"),
    ts("Objects per erasure set (distribution)", [(q('max by (pool, set) (rustfs_set_objects{SEL})'), "pool {{pool}} set {{set}}")]),
    ts("S3 throughput", [(q('sum(rate(rustfs_s3_received_bytes_total{SEL}[$__rate_interval]))'), "in"),
                         (q('sum(rate(rustfs_s3_sent_bytes_total{SEL}[$__rate_interval]))'), "out")], unit="Bps"),
    ts("S3 requests by node", [(q('sum by (instance) (rate(rustfs_s3_requests_total{SEL}[$__rate_interval]))'), "{{instance}}")], unit="reqps"),
]

node = [
    stat("Uptime", q('min(rustfs_node_uptime_seconds{SELI})'), unit="s"),
    stat("Ready", q('min(rustfs_node_ready{SELI})'), thresholds=[(None, "red"), (1, "green")]),
    stat("Drives offline", q('count(rustfs_drive_online{SELI} == 0) or vector(0)'),
         thresholds=[(None, "green"), (1, "red")]),
    stat("Fullest drive", q('max(rustfs_drive_usage_percent{SELI})'), unit="percent",
         thresholds=[(None, "green"), (80, "orange"), (90, "red")]),
    stat("Clock offset", q('max(abs(rustfs_node_time_seconds{SELI} - timestamp(rustfs_node_time_seconds{SELI})))'), unit="s",
         thresholds=[(None, "green"), (30, "red")]),
    stat("Lock timeouts (1h)", q('sum(increase(rustfs_lock_timeouts_total{SELI}[1h]))'),
         thresholds=[(None, "green"), (1, "orange")]),
    ts("CPU", [(q('rate(rustfs_process_cpu_seconds_total{SELI}[$__rate_interval])'), "{{instance}}")], unit="percentunit"),
    ts("Memory (RSS)", [(q('rustfs_process_resident_memory_bytes{SELI}'), "{{instance}}")], unit="bytes"),
    ts("Open file descriptors", [(q('rustfs_process_open_fds{SELI}'), "{{instance}}"),
                                 (q('rustfs_process_max_fds{SELI}'), "{{instance}} max")]),
    ts("Threads", [(q('rustfs_process_threads{SELI}'), "{{instance}}")]),
    ts("Drive usage", [(q('rustfs_drive_usage_percent{SELI}'), "{{instance}} {{drive}}")], unit="percent"),
    ts("Drive free space", [(q('rustfs_drive_free_bytes{SELI}'), "{{instance}} {{drive}}")], unit="bytes"),
    ts("Drive online", [(q('rustfs_drive_online{SELI}'), "{{instance}} {{drive}}")]),
    ts("Drive I/O errors", [(q('rate(rustfs_drive_io_errors_total{SELI}[$__rate_interval])'), "{{instance}} {{drive}}")], unit="ops"),
    ts("Drive operation latency p99", [(q('histogram_quantile(0.99, sum by (instance, drive, le) (rate(rustfs_drive_io_duration_seconds_bucket{SELI}[$__rate_interval])))'), "{{instance}} {{drive}}")], unit="s"),
    ts("Drive operations/s", [(q('sum by (instance, drive) (rate(rustfs_drive_io_duration_seconds_count{SELI}[$__rate_interval]))'), "{{instance}} {{drive}}")], unit="ops"),
    ts("Inter-node calls/s", [(q('sum by (instance, peer) (rate(rustfs_rpc_requests_total{SELI}[$__rate_interval]))'), "{{instance}} → {{peer}}")], unit="reqps"),
    ts("Inter-node errors/s", [(q('sum by (instance, peer) (rate(rustfs_rpc_errors_total{SELI}[$__rate_interval]))'), "{{instance}} → {{peer}}")], unit="reqps"),
    ts("Inter-node latency p99", [(q('histogram_quantile(0.99, sum by (instance, peer, le) (rate(rustfs_rpc_request_duration_seconds_bucket{SELI}[$__rate_interval])))'), "{{instance}} → {{peer}}")], unit="s"),
    ts("Peers online (as each node sees them)", [(q('rustfs_rpc_peer_online{SELI}'), "{{instance}} → {{peer}}")]),
    ts("Lock wait p99", [(q('histogram_quantile(0.99, sum by (instance, kind, le) (rate(rustfs_lock_wait_seconds_bucket{SELI}[$__rate_interval])))'), "{{instance}} {{kind}}")], unit="s"),
    ts("Lock timeouts/s", [(q('sum by (instance, kind) (rate(rustfs_lock_timeouts_total{SELI}[$__rate_interval]))'), "{{instance}} {{kind}}")], unit="ops"),
]

s3 = [
    stat("Requests/s", q('sum(rate(rustfs_s3_requests_total{SELI}[$__rate_interval]))'), unit="reqps"),
    stat("5xx ratio", q('sum(rate(rustfs_s3_requests_total{SELI, status=~"5.."}[$__rate_interval])) / sum(rate(rustfs_s3_requests_total{SELI}[$__rate_interval]))'),
         unit="percentunit", thresholds=[(None, "green"), (0.01, "orange"), (0.05, "red")]),
    stat("4xx ratio", q('sum(rate(rustfs_s3_requests_total{SELI, status=~"4.."}[$__rate_interval])) / sum(rate(rustfs_s3_requests_total{SELI}[$__rate_interval]))'),
         unit="percentunit"),
    stat("In flight", q('sum(rustfs_s3_requests_inflight{SELI})')),
    stat("Received", q('sum(rate(rustfs_s3_received_bytes_total{SELI}[$__rate_interval]))'), unit="Bps"),
    stat("Sent", q('sum(rate(rustfs_s3_sent_bytes_total{SELI}[$__rate_interval]))'), unit="Bps"),
    ts("Requests by API", [(q('sum by (api) (rate(rustfs_s3_requests_total{SELI}[$__rate_interval]))'), "{{api}}")], unit="reqps"),
    ts("Requests by status", [(q('sum by (status) (rate(rustfs_s3_requests_total{SELI}[$__rate_interval]))'), "{{status}}")], unit="reqps"),
    ts("Errors by API (5xx)", [(q('sum by (api, status) (rate(rustfs_s3_requests_total{SELI, status=~"5.."}[$__rate_interval]))'), "{{api}} {{status}}")], unit="reqps"),
    ts("Latency p99 by API", [(q('histogram_quantile(0.99, sum by (api, le) (rate(rustfs_s3_request_duration_seconds_bucket{SELI}[$__rate_interval])))'), "{{api}}")], unit="s"),
    ts("Latency p50 / p90 / p99 (all APIs)", [
        (q('histogram_quantile(0.5, sum by (le) (rate(rustfs_s3_request_duration_seconds_bucket{SELI}[$__rate_interval])))'), "p50"),
        (q('histogram_quantile(0.9, sum by (le) (rate(rustfs_s3_request_duration_seconds_bucket{SELI}[$__rate_interval])))'), "p90"),
        (q('histogram_quantile(0.99, sum by (le) (rate(rustfs_s3_request_duration_seconds_bucket{SELI}[$__rate_interval])))'), "p99")], unit="s"),
    ts("Mean latency by API", [(q('sum by (api) (rate(rustfs_s3_request_duration_seconds_sum{SELI}[$__rate_interval])) / sum by (api) (rate(rustfs_s3_request_duration_seconds_count{SELI}[$__rate_interval]))'), "{{api}}")], unit="s"),
    ts("Bytes received by API", [(q('sum by (api) (rate(rustfs_s3_received_bytes_total{SELI}[$__rate_interval]))'), "{{api}}")], unit="Bps"),
    ts("Bytes sent by API", [(q('sum by (api) (rate(rustfs_s3_sent_bytes_total{SELI}[$__rate_interval]))'), "{{api}}")], unit="Bps"),
    ts("Requests by node", [(q('sum by (instance) (rate(rustfs_s3_requests_total{SELI}[$__rate_interval]))'), "{{instance}}")], unit="reqps"),
    ts("In flight by node", [(q('rustfs_s3_requests_inflight{SELI}'), "{{instance}}")]),
]

healing = [
    stat("Heal queue", q('sum(rustfs_heal_queue_depth{SELI})'), thresholds=[(None, "green"), (100, "orange")]),
    stat("Healed (1h)", q('sum(increase(rustfs_heal_objects_total{SELI, result="healed"}[1h]))')),
    stat("Heal failures (1h)", q('sum(increase(rustfs_heal_objects_total{SELI, result="failed"}[1h]))'),
         thresholds=[(None, "green"), (1, "orange")]),
    stat("Incomplete heals (1h)", q('sum(increase(rustfs_heal_incomplete_total{SELI}[1h]))'),
         thresholds=[(None, "green"), (1, "orange")]),
    stat("Sets below full tolerance", q('count(min by (pool, set) (rustfs_set_drives_online{SEL}) < max by (pool, set) (rustfs_set_drives_total{SEL})) or vector(0)'),
         thresholds=[(None, "green"), (1, "orange")]),
    stat("Objects scanned/s", q('sum(rate(rustfs_scanner_objects_scanned_total{SELI}[$__rate_interval]))'), unit="ops"),
    ts("Heal queue depth", [(q('rustfs_heal_queue_depth{SELI}'), "{{instance}}")]),
    ts("Objects healed/s", [(q('sum by (instance, result) (rate(rustfs_heal_objects_total{SELI}[$__rate_interval]))'), "{{instance}} {{result}}")], unit="ops"),
    ts("Bytes healed/s", [(q('sum by (instance) (rate(rustfs_heal_bytes_total{SELI}[$__rate_interval]))'), "{{instance}}")], unit="Bps"),
    ts("Drive rebuild progress", [(q('rustfs_heal_drive_progress_ratio{SELI}'), "{{instance}} {{drive}}")], unit="percentunit"),
    ts("Scanner cycles", [(q('sum by (instance, kind) (increase(rustfs_scanner_cycles_total{SELI}[1h]))'), "{{instance}} {{kind}} per hour")]),
    ts("Scanner last cycle duration", [(q('rustfs_scanner_last_cycle_duration_seconds{SELI}'), "{{instance}} {{kind}}")], unit="s"),
    ts("Write tolerance per erasure set (worst view)", [(q('min by (pool, set) (rustfs_set_write_tolerance{SEL})'), "pool {{pool}} set {{set}}")]),
    ts("Drive I/O errors", [(q('rate(rustfs_drive_io_errors_total{SELI}[$__rate_interval])'), "{{instance}} {{drive}}")], unit="ops"),
]

# The control plane's own series (job `rustfs-controlplane`); SELC narrows to the chosen clusters.
SELC = 'job="$job", cluster=~"$cluster"'


def c(expr):
    return expr.replace("SELC", SELC).replace("SEL", SEL)


controlplane = [
    stat("Nodes up", c('sum(rustfs_controlplane_nodes{SELC, state="up"})'),
         thresholds=[(None, "red"), (1, "green")]),
    stat("Nodes down", c('sum(rustfs_controlplane_nodes{SELC, state="down"})'),
         desc="Missed down_after polls in a row (down within 10 s with the defaults)",
         thresholds=[(None, "green"), (1, "red")]),
    stat("Nodes unknown", c('sum(rustfs_controlplane_nodes{SELC, state="unknown"})'),
         desc="Registered but not judged yet", thresholds=[(None, "green"), (1, "orange")]),
    stat("Unreachable now", c('count(rustfs_controlplane_node_reachable{SELC} == 0) or vector(0)'),
         desc="Nodes whose latest poll got no answer", thresholds=[(None, "green"), (1, "red")]),
    stat("Poll errors/s", c('sum(rate(rustfs_controlplane_poll_errors_total{SELC}[$__rate_interval])) or vector(0)'),
         unit="ops", thresholds=[(None, "green"), (0.01, "orange")]),
    stat("API 5xx ratio", c('sum(rate(rustfs_controlplane_api_requests_total{SEL, status=~"5.."}[$__rate_interval])) / sum(rate(rustfs_controlplane_api_requests_total{SEL}[$__rate_interval]))'),
         unit="percentunit", thresholds=[(None, "green"), (0.01, "orange"), (0.05, "red")]),
    ts("Nodes by state", [(c('sum by (cluster, state) (rustfs_controlplane_nodes{SELC})'), "{{cluster}} {{state}}")],
       desc="As the control plane judges them: up, down (missed polls in a row), unknown"),
    ts("Node reachability", [(c('rustfs_controlplane_node_reachable{SELC}'), "{{cluster}} {{node}}")],
       desc="1 when the latest poll got an answer from the node's health endpoint; alert ControlPlaneNodeUnreachable after 2m at 0"),
    ts("Poll latency p50 / p99", [
        (c('histogram_quantile(0.5, sum by (cluster, le) (rate(rustfs_controlplane_poll_seconds_bucket{SELC}[$__rate_interval])))'), "{{cluster}} p50"),
        (c('histogram_quantile(0.99, sum by (cluster, le) (rate(rustfs_controlplane_poll_seconds_bucket{SELC}[$__rate_interval])))'), "{{cluster}} p99")],
       unit="s", desc="Time to poll one node: health, then SigV4-signed admin info"),
    ts("Polls/s", [(c('sum by (cluster) (rate(rustfs_controlplane_poll_seconds_count{SELC}[$__rate_interval]))'), "{{cluster}}")], unit="ops"),
    ts("Poll errors by stage", [(c('sum by (cluster, stage) (rate(rustfs_controlplane_poll_errors_total{SELC}[$__rate_interval]))'), "{{cluster}} {{stage}}")],
       unit="ops", desc="tls: the node's certificate does not verify against the registered CA (or no TLS); health: no answer; admin_info: a bad admin answer"),
    ts("Events by kind", [(c('sum by (kind) (increase(rustfs_controlplane_events_total{SEL}[$__rate_interval]))'), "{{kind}}")],
       desc="node_down/node_up, drive_offline/drive_online, set_tolerance_changed, version_changed, registrations"),
    ts("Events pruned (retention)", [(c('sum(increase(rustfs_controlplane_events_pruned_total{SEL}[1h]))'), "per hour")],
       desc="Events older than event_retention_days deleted"),
    ts("API requests by route", [(c('sum by (route, method) (rate(rustfs_controlplane_api_requests_total{SEL}[$__rate_interval]))'), "{{method}} {{route}}")], unit="reqps"),
    ts("API requests by status", [(c('sum by (status) (rate(rustfs_controlplane_api_requests_total{SEL}[$__rate_interval]))'), "{{status}}")], unit="reqps"),
    ts("API latency p99 by route", [(c('histogram_quantile(0.99, sum by (route, method, le) (rate(rustfs_controlplane_api_request_seconds_bucket{SEL}[$__rate_interval])))'), "{{method}} {{route}}")], unit="s"),
]

DASHBOARDS = {
    "rustfs-cluster-overview.json": dashboard("rustfs-overview", "RustFS / Cluster overview", overview, with_instance=False, tags=["overview"]),
    "rustfs-node-drives.json": dashboard("rustfs-node-drives", "RustFS / Nodes and drives", node, tags=["node"]),
    "rustfs-s3-api.json": dashboard("rustfs-s3-api", "RustFS / S3 API", s3, tags=["s3"]),
    "rustfs-healing.json": dashboard("rustfs-healing", "RustFS / Healing and scanner", healing, tags=["healing"]),
    "rustfs-controlplane.json": dashboard("rustfs-controlplane", "RustFS / Control plane", controlplane,
                                          tags=["controlplane"], templating=controlplane_variables()),
}

if __name__ == "__main__":
    for name, d in DASHBOARDS.items():
        with open(os.path.join(HERE, name), "w") as f:
            json.dump(d, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print(f"wrote {name}: {len(d['panels'])} panels")
