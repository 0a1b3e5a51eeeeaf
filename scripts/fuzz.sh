#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for SECONDS (default 60) each, starting
# from the checked-in seed corpus. New inputs go to target/fuzz-corpus/,
# never into the repository; a crash or a slow input (over 20 s) fails the
# run and leaves the input in test-output/fuzz/ — turn it into a regression
# file under fuzz/regressions/TARGET/ (crates/podpath-core/tests/fuzz_regressions.rs
# replays those and the seed corpus on every test run).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(manifests shell share_link lesson); fi
mkdir -p test-output/fuzz
# No sanitizer: the code has no unsafe (workspace lint), so AddressSanitizer
# would find nothing the bounds checks do not; without it runs are ~3x faster.
cargo +nightly fuzz build --sanitizer none
for t in "${targets[@]}"; do
  mkdir -p "target/fuzz-corpus/$t"
  echo "fuzz: $t for ${seconds}s" >&2
  log="test-output/fuzz/$t.log"
  status=0
  cargo +nightly fuzz run --sanitizer none "$t" "target/fuzz-corpus/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="test-output/fuzz/$t-" >"$log" 2>&1 || status=$?
  grep -aE '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" >&2 || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz: $t failed; the input is in test-output/fuzz/" >&2
    exit 1
  fi
done
