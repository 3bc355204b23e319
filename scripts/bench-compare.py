#!/usr/bin/env python3
"""Before/after figures for a change that may touch a hot path.

    scripts/bench-compare.py BEFORE_RUSTFS AFTER_RUSTFS [--rounds 5] [--dir DIR] [--secs 5]
                             [--only LABEL]

Starts each `rustfs` binary in turn on a fresh single node with four drives under DIR (default: a
new directory in /dev/shm, so the figures show CPU cost; give a directory on a disk to include
fsync), runs `rustfs-bench` (the release build in $CARGO_TARGET_DIR, default
~/.cache/rustfs-bench-target, or $RUSTFS_BENCH_BIN) against it, and alternates the binaries round
by round so drifts of a shared machine hit both alike. Prints the median of the rounds per
workload and the change. Traffic stays on 127.0.0.1.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

USER, SECRET = "benchcompare", "benchcompare-secret-key"
# (label, rustfs-bench arguments, figure)
RUNS = [
    ("small-put 4KiB", ["--workloads", "small-put"], "ops_per_sec"),
    ("small-get 4KiB", ["--workloads", "small-get"], "ops_per_sec"),
    ("put 1MiB", ["--workloads", "put", "--sizes", "1MiB"], "mib_per_sec"),
    ("get 1MiB", ["--workloads", "get", "--sizes", "1MiB"], "mib_per_sec"),
    ("put 64MiB", ["--workloads", "put", "--sizes", "64MiB"], "mib_per_sec"),
    ("get 64MiB", ["--workloads", "get", "--sizes", "64MiB"], "mib_per_sec"),
    ("versioned-get 1 version", ["--workloads", "versioned-get", "--versions", "1"], "p50_ms"),
    ("versioned-get 100 versions", ["--workloads", "versioned-get", "--versions", "100"], "p50_ms"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_bin():
    if os.environ.get("RUSTFS_BENCH_BIN"):
        return os.environ["RUSTFS_BENCH_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/rustfs-bench-target"))
    env = dict(os.environ, CARGO_TARGET_DIR=target)
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "rustfs-tests", "--bin",
                    "rustfs-bench"], check=True, env=env)
    return os.path.join(target, "release", "rustfs-bench")


def one_round(rustfs, bench, root, secs):
    """Every run of RUNS against a fresh node of `rustfs`; answers {label: figure}."""
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    port = free_port()
    env = dict(os.environ, RUSTFS_ROOT_USER=USER, RUSTFS_ROOT_PASSWORD=SECRET)
    log = open(os.path.join(root, "server.log"), "w")
    server = subprocess.Popen([rustfs, "server", "--address", f"127.0.0.1:{port}",
                               f"{root}/d{{1...4}}"], env=env, stdout=log, stderr=log)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint + "/rustfs/health/ready", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit(f"{rustfs} did not become ready; see {root}/server.log")
                time.sleep(0.1)
        figures = {}
        for label, args, figure in RUNS:
            out = subprocess.run([bench, "--endpoint", endpoint, "--access-key", USER,
                                  "--secret-key", SECRET, "--concurrency", "8",
                                  "--duration-secs", str(secs), "--json", *args],
                                 capture_output=True, text=True, timeout=600)
            if out.returncode != 0:
                sys.exit(f"rustfs-bench failed for {label}:\n{out.stderr}")
            figures[label] = json.loads(out.stdout.splitlines()[0])[figure]
        return figures
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("before")
    p.add_argument("after")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--secs", type=int, default=5)
    p.add_argument("--dir", help="where the drives go (default: a new directory in /dev/shm)")
    p.add_argument("--only", help="run only the workloads whose label contains one of these "
                   "comma-separated words")
    a = p.parse_args()
    if a.only:
        words = a.only.split(",")
        RUNS[:] = [r for r in RUNS if any(w in r[0] for w in words)]
    bench = bench_bin()
    base = a.dir or tempfile.mkdtemp(prefix="rustfs-compare-", dir="/dev/shm")
    results = {"before": [], "after": []}
    try:
        for r in range(a.rounds):
            order = [("before", a.before), ("after", a.after)]
            for name, binary in order if r % 2 == 0 else reversed(order):
                print(f"round {r + 1}/{a.rounds}: {name}", file=sys.stderr)
                results[name].append(one_round(binary, bench, os.path.join(base, name), a.secs))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"{'run':<28} {'figure':<12} {'before':>10} {'after':>10} {'change':>8}")
    for label, _, figure in RUNS:
        before = statistics.median(x[label] for x in results["before"])
        after = statistics.median(x[label] for x in results["after"])
        change = (after - before) / before * 100 if before else float("nan")
        print(f"{label:<28} {figure:<12} {before:>10.2f} {after:>10.2f} {change:>+7.1f}%")


if __name__ == "__main__":
    main()
