#!/usr/bin/env bash
# Heal throughput benchmark (issue 4): MiB/s rebuilt onto a replaced (wiped) drive of a local
# 4-drive server, next to the drive's own write bandwidth measured with dd + fsync on the same
# file system; then client throughput with and without a rebuild running under an IO budget.
#
#   scripts/bench-heal.sh [DATA_MIB] [BUDGET_MIB]      (defaults: 1024 MiB of objects, 64 MiB/s)
#
# Release builds go to $CARGO_TARGET_DIR (default ~/.cache/rustfs-bench-target). Traffic stays
# on 127.0.0.1. Prints a figures table at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_MIB=${1:-1024}
BUDGET_MIB=${2:-64}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/rustfs-bench-target}
cargo build --release --quiet -p rustfs-node --bin rustfs -p rustfs-tests --bin rustfs-bench
BIN=$CARGO_TARGET_DIR/release
WORK=$(mktemp -d /tmp/rustfs-heal-bench.XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
export RUSTFS_ROOT_USER=healbench RUSTFS_ROOT_PASSWORD=healbench-secret-key
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
EP=http://127.0.0.1:$PORT

start() { # $1 = IO budget MiB/s (0: unlimited)
  RUSTFS_HEAL_IO_BUDGET_MIB=$1 RUSTFS_SCANNER_INTERVAL_SECS=3600 RUSTFS_DRIVE_CHECK_SECS=1 \
    "$BIN/rustfs" server --address "127.0.0.1:$PORT" "$WORK/d{1...4}" >>"$WORK/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 200); do
    curl -sf "$EP/rustfs/health/ready" >/dev/null && return 0
    sleep 0.1
  done
  echo "server did not start; log:"; cat "$WORK/server.log"; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }
bench() { "$BIN/rustfs-bench" --endpoint "$EP" --access-key healbench --secret-key healbench-secret-key "$@"; }
status() {
  python3 - "$EP" <<'PY'
import sys, json, datetime, hashlib, hmac, urllib.request
ep = sys.argv[1]; host = ep.split("//")[1]
t = datetime.datetime.now(datetime.timezone.utc); amz = t.strftime("%Y%m%dT%H%M%SZ"); day = amz[:8]
path = "/rustfs/admin/v1/heal/status"; empty = hashlib.sha256(b"").hexdigest()
canon = f"GET\n{path}\n\nhost:{host}\nx-amz-content-sha256:{empty}\nx-amz-date:{amz}\n\nhost;x-amz-content-sha256;x-amz-date\n{empty}"
scope = f"{day}/us-east-1/s3/aws4_request"
sts = f"AWS4-HMAC-SHA256\n{amz}\n{scope}\n" + hashlib.sha256(canon.encode()).hexdigest()
k = ("AWS4" + "healbench-secret-key").encode()
for m in (day, "us-east-1", "s3", "aws4_request"): k = hmac.new(k, m.encode(), hashlib.sha256).digest()
sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
req = urllib.request.Request(ep + path, headers={"x-amz-date": amz, "x-amz-content-sha256": empty,
  "Authorization": f"AWS4-HMAC-SHA256 Credential=healbench/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={sig}"})
print(json.dumps(json.load(urllib.request.urlopen(req))))
PY
}
healing() { status | python3 -c 'import sys,json; s=json.load(sys.stdin); print(s["totals"]["drives_healing"])'; }
wipe_and_time() { # wipes d2, waits for its rebuild; prints seconds
  find "$WORK/d2" -mindepth 1 -delete
  local t0; t0=$(date +%s.%N)
  until [ -f "$WORK/d2/.rustfs.sys/healing.json" ]; do sleep 0.1; done
  while [ -f "$WORK/d2/.rustfs.sys/healing.json" ]; do sleep 0.2; done
  python3 -c "import time; print(f'{time.time() - $t0:.2f}')"
}

echo "== dd with fsync on the drives' file system (512 MiB)"
DD=$(dd if=/dev/zero of="$WORK/ddtest" bs=1M count=512 conv=fsync 2>&1 | tail -1)
rm -f "$WORK/ddtest"
echo "$DD"
DD_MIBS=$(echo "$DD" | python3 -c 'import sys,re; l=sys.stdin.read(); m=re.search(r"(\d+(?:\.\d+)?) s,", l); print(f"{512/float(m.group(1)):.1f}")')

start 0
echo "== loading $DATA_MIB MiB in 16 MiB objects"
bench --bucket healbench --keep --workloads put --sizes 16MiB --concurrency 4 \
  --max-ops $((DATA_MIB / 16)) --duration-secs 3600 >/dev/null
sync
SHARD_MIB=$(du -sm "$WORK/d2" | cut -f1)
echo "== rebuild of a wiped drive, no IO budget ($SHARD_MIB MiB on the drive)"
SECS=$(wipe_and_time)
FREE_MIBS=$(python3 -c "print(f'{$SHARD_MIB/$SECS:.1f}')")
echo "rebuilt $SHARD_MIB MiB in $SECS s"
stop

start "$BUDGET_MIB"
echo "== client load, no rebuild"
bench --bucket clientload --workloads get,small-get --sizes 1MiB --concurrency 8 --duration-secs 8 | tee "$WORK/base.txt"
echo "== client load during a rebuild under a $BUDGET_MIB MiB/s budget"
find "$WORK/d2" -mindepth 1 -delete
until [ -f "$WORK/d2/.rustfs.sys/healing.json" ]; do sleep 0.1; done
T0=$(date +%s.%N)
bench --bucket clientload --workloads get,small-get --sizes 1MiB --concurrency 8 --duration-secs 8 | tee "$WORK/load.txt"
while [ -f "$WORK/d2/.rustfs.sys/healing.json" ]; do sleep 0.2; done
LOADED_SECS=$(python3 -c "import time; print(f'{time.time() - $T0:.2f}')")
BUDGET_RATE=$(python3 -c "print(f'{$SHARD_MIB/$LOADED_SECS:.1f}')")
stop

echo
echo "== figures"
printf '%-52s %10s\n' "drive write bandwidth (dd, fsync)" "$DD_MIBS MiB/s"
printf '%-52s %10s\n' "rebuild onto a wiped drive, no budget" "$FREE_MIBS MiB/s"
printf '%-52s %10s\n' "rebuild under load, budget $BUDGET_MIB MiB/s (shard bytes)" "$BUDGET_RATE MiB/s"
echo "client load without / with the rebuild:"
grep -E '^(get|small-get) ' "$WORK/base.txt" | sed 's/^/  without  /'
grep -E '^(get|small-get) ' "$WORK/load.txt" | sed 's/^/  with     /'
