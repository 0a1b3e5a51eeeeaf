#!/usr/bin/env bash
# The NetworkPolicy benchmark: 5,000 pods and 1,000 policies.
#   1. the full matrix natively (criterion);
#   2. the same matrix in headless Chromium (Wasm, release build);
#   3. end to end on the command line (read, simulate, matrix, JSON) next
#      to the np-guard analyzer (`nca --connectivity`) on the same manifests.
# Installs nca with pip when it is missing. Prints the numbers and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/web/node_modules/.bin:$PATH:/usr/sbin:/sbin"
out="$PWD/target/bench-policy"
mkdir -p "$out"

echo "== native matrix (criterion)"
cargo bench -p podpath-core --bench policy 2>&1 | tee "$out/criterion.txt" | grep -E "pods in|time:"
native_ms=$(grep -A1 "matrix 5000 pods" "$out/criterion.txt" | grep -o 'time: *\[[^]]*\]' | awk '{gsub(/\[/,""); print $4, $5}' |
  awk '{v=$1; if ($2=="s") v*=1000; if ($2=="µs") v/=1000; print v}')

echo "== the same matrix in the browser (Wasm)"
wasm_tmp="$out/wasm-tmp"; rm -rf "$wasm_tmp"; mkdir -p "$wasm_tmp"
TMPDIR="$wasm_tmp" cargo test --profile wasm --target wasm32-unknown-unknown -p podpath-web --features bench \
  --test bench_policy -- --nocapture 2>&1 | tee "$out/wasm.txt" | grep -E "wasm:|test result"
rm -rf "$wasm_tmp"
wasm_ms=$(grep -o 'matrix best of 5 [0-9]*' "$out/wasm.txt" | awk '{print $5}')

echo "== command line, next to np-guard's nca"
cargo build --release --quiet -p podpath-cli
command -v nca >/dev/null || pip install --quiet network-config-analyzer
# Seconds; nca may take far longer than podpath on the full cluster.
nca_timeout="${NCA_TIMEOUT:-1800}"
compare() { # NAMESPACES LABEL
  local file="$out/manifests-$1.yaml"
  cargo run --release --quiet -p podpath-core --example policy_scenario -- "$1" > "$file"
  local t0 t1 t2 status=done
  t0=$(date +%s.%N)
  target/release/podpath matrix -f "$file" -o json > "$out/podpath-$1.json" 2>/dev/null
  t1=$(date +%s.%N)
  timeout "$nca_timeout" nca --connectivity --resource_list "$file" --output_format txt > "$out/nca-$1.txt" 2>"$out/nca-$1.err" ||
    status="stopped after ${nca_timeout} s"
  t2=$(date +%s.%N)
  awk -v l="$2" -v a="$t0" -v b="$t1" -v c="$t2" -v s="$status" 'BEGIN {
    printf "%-34s podpath matrix %7.2f s   nca --connectivity %8.2f s (%s)   ratio %.0fx\n", l, b - a, c - b, s, (c - b) / (b - a)
  }'
}
compare 10 "500 pods, 100 policies:"
compare 100 "5,000 pods, 1,000 policies:"

echo
awk -v n="$native_ms" -v w="$wasm_ms" 'BEGIN {
  printf "native matrix:           %8.0f ms\n", n
  printf "wasm matrix:             %8.0f ms  (%.1fx native)\n", w, w / n
}'
echo "(podpath matrix on the command line includes reading, simulating, lint and writing the JSON)"
