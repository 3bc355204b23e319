#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time (README, "Fuzzing"); not part of CI.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     # default 60 s each, every target
#
# Corpora persist in fuzz/corpus/<target>/ (seeded from git and from examples/); a crash, leak,
# timeout or out-of-memory input is written to fuzz/artifacts/<target>/, its path printed with the
# command that replays it, and the script exits 1 after the other targets have run.
#
# Environment: FUZZ_SANITIZER (address | none; default address), FUZZ_TARGET_DIR (default
# fuzz/target), FUZZ_ARGS (extra libFuzzer flags, e.g. "-jobs=2 -workers=2").
set -euo pipefail

SECS=${1:-60}
shift || true
case "$SECS" in '' | *[!0-9]*) echo "fuzz: SECONDS_PER_TARGET must be a number, not '$SECS'" >&2; exit 2 ;; esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SANITIZER=${FUZZ_SANITIZER:-address}
TARGET_DIR=${FUZZ_TARGET_DIR:-$ROOT/fuzz/target}
# cargo-fuzz passes nightly-only flags (-Zsanitizer, …); stable rustc takes them with this set.
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

cd "$ROOT/fuzz"
# Real inputs as seeds: the example inventories (kept current, so copied on every run).
for f in "$ROOT"/examples/*.yaml; do
  cp "$f" "corpus/inventory/seed-example-$(basename "$f")"
done

FLAGS=(--sanitizer "$SANITIZER" --target-dir "$TARGET_DIR" -O)
cargo fuzz build "${FLAGS[@]}"

if [ $# -gt 0 ]; then
  TARGETS=("$@")
else
  mapfile -t TARGETS < <(cargo fuzz list)
fi

failed=()
summary=()
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log=$(mktemp -t "fuzz-$t-XXXXXX.log")
  echo "fuzz: $t for ${SECS}s"
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb/-malloc_limit_mb: unbounded
  # allocation is a finding too. Seeds are read-only inputs besides the growing corpus.
  # shellcheck disable=SC2086
  if cargo fuzz run "${FLAGS[@]}" "$t" "corpus/$t" -- \
    -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1 ${FUZZ_ARGS:-} >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    summary+=("$t: ok, ${runs:-?} executions in ${SECS}s, corpus $(find "corpus/$t" -type f | wc -l) inputs")
  else
    tail -n 40 "$log" >&2
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n1)
    if [ -n "$artifact" ]; then
      summary+=("$t: FAILED — reproduce with: (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run ${FLAGS[*]} $t $artifact)")
      echo "fuzz: $t failed; reproducer: $ROOT/fuzz/$artifact" >&2
    else
      summary+=("$t: FAILED (no reproducer written; full log: $log)")
    fi
    failed+=("$t")
  fi
done

printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
