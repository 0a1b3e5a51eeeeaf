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
TMPDIR="$wasm_tmp" cargo test --release --target wasm32-unknown-unknown -p podpath-web --features bench \
  --test bench_policy 2>&1 | tee "$out/wasm.txt" | grep -E "wasm:|test result"
rm -rf "$wasm_tmp"
wasm_ms=$(grep -o 'matrix best of 5 [0-9]*' "$out/wasm.txt" | awk '{print $5}')

echo "== command line, next to np-guard's nca"
cargo build --release --quiet -p podpath-cli
cargo run --release --quiet -p podpath-core --example policy_scenario > "$out/manifests.yaml"
command -v nca >/dev/null || pip install --quiet network-config-analyzer
t0=$(date +%s.%N)
target/release/podpath matrix -f "$out/manifests.yaml" -o json > "$out/podpath.json" 2>/dev/null
t1=$(date +%s.%N)
nca --connectivity --resource_list "$out/manifests.yaml" --output_format txt > "$out/nca.txt" 2>"$out/nca.err" || true
t2=$(date +%s.%N)

echo
awk -v n="$native_ms" -v w="$wasm_ms" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
  printf "native matrix:           %8.0f ms\n", n
  printf "wasm matrix:             %8.0f ms  (%.1fx native)\n", w, w / n
  printf "podpath matrix (CLI):    %8.2f s   (read, simulate, lint, matrix, 25M-cell JSON)\n", b - a
  printf "nca --connectivity:      %8.2f s   (%.1fx podpath)\n", c - b, (c - b) / (b - a)
}'
