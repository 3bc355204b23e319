#!/usr/bin/env bash
# What authorisation costs: small-object GET ops/s as root (no policy evaluated) and as an IAM
# user (three policies, one with a condition, plus the bucket lookup), on one node loaded with
# 1,000 users and 200 custom policies. Rounds alternate which goes first.
# Usage: scripts/bench-authz.sh [ROUNDS]   (binaries: RUSTFS_BIN, RUSTFS_BENCH_BIN; default
# target/release/, build them with `cargo build --release -p rustfs-node -p rustfs-tests --bins`)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-6}
BIN=${RUSTFS_BIN:-target/release/rustfs}
BENCH=${RUSTFS_BENCH_BIN:-target/release/rustfs-bench}
for b in "$BIN" "$BENCH"; do [ -x "$b" ] || { echo "bench-authz: $b not found" >&2; exit 1; }; done
W=$(mktemp -d -t rustfs-authz-XXXXXX)
export RUSTFS_ROOT_USER=benchroot RUSTFS_ROOT_PASSWORD=benchroot-secret
"$BIN" server --address 127.0.0.1:0 "$W/d{1...4}" >"$W/out" 2>"$W/err" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$W"' EXIT
EP=""
for _ in $(seq 1 300); do
  EP=$(sed -n 's/^ *endpoint: *//p' "$W/out" | head -n1)
  [ -n "$EP" ] && break
  sleep 0.1
done
[ -n "$EP" ] || { echo "bench-authz: the node did not start" >&2; cat "$W/err" >&2; exit 1; }
export AWS_ACCESS_KEY_ID=$RUSTFS_ROOT_USER AWS_SECRET_ACCESS_KEY=$RUSTFS_ROOT_PASSWORD RUSTFS_ENDPOINT=$EP
printf 'bench-user-secret' >"$W/user.secret"
printf '%s' "$RUSTFS_ROOT_PASSWORD" >"$W/root.secret"
for i in $(seq 1 200); do
  printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::team-%d","arn:aws:s3:::team-%d/*"],"Condition":{"IpAddress":{"aws:SourceIp":"10.%d.0.0/16"}}}]}' \
    "$i" "$i" $((i % 250)) >"$W/p.json"
  "$BIN" admin policy create "team-$i" "$W/p.json" >/dev/null
done
for i in $(seq 1 999); do
  "$BIN" admin user add "user-$i" --secret-file "$W/user.secret" >/dev/null
  "$BIN" admin policy attach "team-$(((i % 200) + 1))" --user "user-$i" >/dev/null
done
"$BIN" admin user add benchuser --secret-file "$W/user.secret" >/dev/null
for p in team-7 team-99 readwrite; do "$BIN" admin policy attach "$p" --user benchuser >/dev/null; done
echo "bench-authz: 1000 users and 200 policies loaded at $EP"
run() { # run BUCKET KEY SECRET_FILE: small-get ops/s
  "$BENCH" --endpoint "$EP" --access-key "$2" --secret-key-file "$3" --bucket "$1" \
    --workloads small-get --concurrency 8 --duration-secs 8 --json 2>/dev/null |
    python3 -c '
import json, sys
for line in sys.stdin:
    if line.startswith("{") and json.loads(line).get("workload") == "small-get":
        print(round(json.loads(line)["ops_per_sec"])); break'
}
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then
    r=$(run "root-$round" benchroot "$W/root.secret"); u=$(run "user-$round" benchuser "$W/user.secret")
  else
    u=$(run "user-$round" benchuser "$W/user.secret"); r=$(run "root-$round" benchroot "$W/root.secret")
  fi
  echo "round $round: root $r ops/s, user $u ops/s"
done
