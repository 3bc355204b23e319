#!/usr/bin/env bash
# Smoke test with off-the-shelf S3 clients (aws CLI, s3cmd, rclone) against a fresh 4-drive
# server on loopback. Usage: scripts/smoke.sh [path/to/rustfs]
set -euo pipefail

BIN=${1:-${RUSTFS_BIN:-target/debug/rustfs}}
[ -x "$BIN" ] || { echo "smoke: $BIN not found — build it with: cargo build -p rustfs-node --bin rustfs" >&2; exit 1; }
WORK=$(mktemp -d -t rustfs-smoke-XXXXXX)
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

export RUSTFS_ROOT_USER=smoke-admin RUSTFS_ROOT_PASSWORD=smoke-secret-key
"$BIN" server --address 127.0.0.1:0 "$WORK/drives/d{1...4}" >"$WORK/out.log" 2>"$WORK/err.log" &
PID=$!
EP=""
for _ in $(seq 1 300); do
  EP=$(sed -n 's/^ *endpoint: *//p' "$WORK/out.log" | head -n1)
  [ -n "$EP" ] && break
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/err.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$EP" ] || { echo "smoke: server did not report its endpoint" >&2; cat "$WORK/err.log" >&2; exit 1; }
HOSTPORT=${EP#http://}
echo "smoke: server at $EP"

pass=0
fail=0
check() { # check NAME COMMAND...
  local name=$1; shift
  if "$@" >"$WORK/last.log" 2>&1; then pass=$((pass + 1)); echo "ok   $name"
  else fail=$((fail + 1)); echo "FAIL $name"; sed 's/^/     /' "$WORK/last.log" | tail -n 20; fi
}

mkdir -p "$WORK/data"
head -c 7340033 /dev/urandom >"$WORK/seven.bin"   # 7 MiB + 1: multipart in every client
echo "hello rustfs" >"$WORK/small.txt"
cp "$WORK/small.txt" "$WORK/seven.bin" "$WORK/data/"

# aws CLI
export AWS_ACCESS_KEY_ID=$RUSTFS_ROOT_USER AWS_SECRET_ACCESS_KEY=$RUSTFS_ROOT_PASSWORD AWS_DEFAULT_REGION=us-east-1
# aws CLI v1 presigns with Signature Version 2 unless told otherwise, which the server refuses
# without --allow-sigv2 (README, "Security").
printf '[default]\ns3 =\n    signature_version = s3v4\n' >"$WORK/aws-config"
export AWS_CONFIG_FILE=$WORK/aws-config
AWS=(aws --endpoint-url "$EP")
check "aws mb" "${AWS[@]}" s3 mb s3://smoke
check "aws cp up (multipart)" "${AWS[@]}" s3 cp "$WORK/seven.bin" s3://smoke/dir/seven.bin
check "aws cp small" "${AWS[@]}" s3 cp "$WORK/small.txt" s3://smoke/small.txt
check "aws cp down" "${AWS[@]}" s3 cp s3://smoke/dir/seven.bin "$WORK/seven.back"
check "aws bytes match" cmp "$WORK/seven.bin" "$WORK/seven.back"
check "aws ls" bash -c "${AWS[*]} s3 ls s3://smoke --recursive | grep -q dir/seven.bin"
check "aws head-object" "${AWS[@]}" s3api head-object --bucket smoke --key small.txt
check "aws presign + curl" bash -c "curl -fsS \"\$(${AWS[*]} s3 presign s3://smoke/small.txt)\" | grep -q 'hello rustfs'"
check "aws sync" "${AWS[@]}" s3 sync "$WORK/data" s3://smoke/sync
check "aws rm" "${AWS[@]}" s3 rm s3://smoke/small.txt
# STS: an IAM user's temporary keys, used by the aws CLI with their session token
printf 'smoke-app-secret' >"$WORK/app.secret"
check "rustfs admin user add" env RUSTFS_ENDPOINT="$EP" "$BIN" admin user add smoke-app --secret-file "$WORK/app.secret"
check "rustfs admin policy attach" env RUSTFS_ENDPOINT="$EP" "$BIN" admin policy attach readwrite --user smoke-app
check "aws sts assume-role" bash -c "AWS_ACCESS_KEY_ID=smoke-app AWS_SECRET_ACCESS_KEY=smoke-app-secret ${AWS[*]} sts assume-role \
  --role-arn arn:aws:iam::000000000000:role/any --role-session-name smoke --duration-seconds 900 \
  --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text >'$WORK/sts.txt'"
read -r STS_AK STS_SK STS_TOKEN <"$WORK/sts.txt" || true
check "aws cp with temporary keys" env AWS_ACCESS_KEY_ID="$STS_AK" AWS_SECRET_ACCESS_KEY="$STS_SK" \
  AWS_SESSION_TOKEN="$STS_TOKEN" "${AWS[@]}" s3 cp "$WORK/small.txt" s3://smoke/sts.txt
check "temporary keys need their token" bash -c "! AWS_ACCESS_KEY_ID='$STS_AK' AWS_SECRET_ACCESS_KEY='$STS_SK' ${AWS[*]} s3 cp '$WORK/small.txt' s3://smoke/sts2.txt"

# s3cmd
S3CMD=(s3cmd --no-ssl --host="$HOSTPORT" --host-bucket="$HOSTPORT" --access_key="$RUSTFS_ROOT_USER"
       --secret_key="$RUSTFS_ROOT_PASSWORD" --region=us-east-1 --multipart-chunk-size-mb=5 -c /dev/null)
check "s3cmd mb" "${S3CMD[@]}" mb s3://smoke-s3cmd
check "s3cmd put (multipart)" "${S3CMD[@]}" put "$WORK/seven.bin" s3://smoke-s3cmd/seven.bin
check "s3cmd get" "${S3CMD[@]}" get --force s3://smoke-s3cmd/seven.bin "$WORK/seven.s3cmd"
check "s3cmd bytes match" cmp "$WORK/seven.bin" "$WORK/seven.s3cmd"
check "s3cmd ls" bash -c "${S3CMD[*]} ls s3://smoke-s3cmd | grep -q seven.bin"
check "s3cmd del" "${S3CMD[@]}" del s3://smoke-s3cmd/seven.bin
check "s3cmd rb" "${S3CMD[@]}" rb s3://smoke-s3cmd

# rclone
export RCLONE_CONFIG_RFS_TYPE=s3 RCLONE_CONFIG_RFS_PROVIDER=Other RCLONE_CONFIG_RFS_ENDPOINT=$EP
export RCLONE_CONFIG_RFS_ACCESS_KEY_ID=$RUSTFS_ROOT_USER RCLONE_CONFIG_RFS_SECRET_ACCESS_KEY=$RUSTFS_ROOT_PASSWORD
export RCLONE_CONFIG_RFS_REGION=us-east-1 RCLONE_CONFIG_RFS_FORCE_PATH_STYLE=true
RCLONE=(env -u AWS_CA_BUNDLE rclone --config /dev/null --s3-upload-cutoff 5M --s3-chunk-size 5M)
check "rclone mkdir" "${RCLONE[@]}" mkdir rfs:smoke-rclone
check "rclone copy up" "${RCLONE[@]}" copyto "$WORK/seven.bin" rfs:smoke-rclone/a/seven.bin
check "rclone sync + check" bash -c "${RCLONE[*]} sync '$WORK/data' rfs:smoke-rclone/data && ${RCLONE[*]} check '$WORK/data' rfs:smoke-rclone/data"
check "rclone cat" bash -c "${RCLONE[*]} cat rfs:smoke-rclone/a/seven.bin | cmp - '$WORK/seven.bin'"
check "rclone lsf" bash -c "${RCLONE[*]} lsf -R rfs:smoke-rclone | grep -q a/seven.bin"
check "rclone purge" "${RCLONE[@]}" purge rfs:smoke-rclone

echo "smoke: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
