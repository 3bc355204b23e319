#!/usr/bin/env bash
# Runs a mixed-version cluster: two nodes of an earlier release and two of this checkout (HEAD
# plus whatever is uncommitted) under S3 traffic, then moves the old nodes to this build one at a
# time (tests/tests/mixed_version.rs). Usage: scripts/mixed-version.sh [REV]
# REV defaults to the newest v* tag; the earlier release is built once per commit into
# target/mixed-version/REV (a worktree of its own, a target directory of its own: a cold build).
set -euo pipefail
cd "$(dirname "$0")/.."

rev=${1:-$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null || true)}
if [ -z "$rev" ]; then
  echo "mixed-version: no v* release tag here and no revision given — pass one (scripts/mixed-version.sh v0.1.0, or a commit)" >&2
  exit 2
fi
commit=$(git rev-parse --verify --quiet "$rev^{commit}") || {
  echo "mixed-version: $rev is not a commit here (git fetch --tags?)" >&2
  exit 2
}
root=$PWD/target/mixed-version
old_src=$root/src-$commit
old_bin=$root/bin-$commit/rustfs
if [ ! -x "$old_bin" ]; then
  echo "mixed-version: building $rev ($commit) — a cold build, several minutes"
  rm -rf "$old_src"
  git worktree prune
  git worktree add --detach "$old_src" "$commit" >/dev/null
  trap 'git worktree remove --force "$old_src" 2>/dev/null || true' EXIT
  (cd "$old_src" && RUSTFS_BUILD_VERSION="$rev" CARGO_TARGET_DIR="$root/target" \
    cargo build --bin rustfs)
  mkdir -p "$(dirname "$old_bin")"
  cp "$root/target/debug/rustfs" "$old_bin"
fi
echo "mixed-version: earlier release $rev: $old_bin"
cargo build --bin rustfs
RUSTFS_OLD_BIN=$old_bin cargo nextest run -p rustfs-tests --test mixed_version \
  --run-ignored only --no-capture
