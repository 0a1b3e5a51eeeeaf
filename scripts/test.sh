#!/usr/bin/env bash
# Installs what is missing, then runs every test podpath has:
#   1. formatting and lints;
#   2. native tests of every crate (cargo nextest) and the doctests;
#   3. the app's Wasm tests in headless Chromium (wasm-bindgen-test-runner);
#   4. a release build of the site (trunk), with its size report;
#   5. end-to-end tests of that build in Chromium (node --test, playwright-core);
#   6. every fuzz target for a minute (cargo fuzz; scripts/fuzz.sh).
# Screenshots and other artifacts land in test-output/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# iptables-restore/iptables-save live in sbin, which a minimal PATH lacks.
export PATH="$PWD/web/node_modules/.bin:$PATH:/usr/sbin:/sbin"
export CARGO_TERM_COLOR=never
step() { printf '\n== %s\n' "$*" >&2; }

step "format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "native tests"
cargo nextest run --workspace --no-fail-fast
cargo test --workspace --doc --quiet

step "wasm tests in headless Chromium"
# Each run leaves a browser profile in TMPDIR: keep it inside target/.
wasm_tmp="$PWD/target/wasm-test-tmp"
rm -rf "$wasm_tmp" && mkdir -p "$wasm_tmp"
TMPDIR="$wasm_tmp" cargo test --target wasm32-unknown-unknown -p podpath-web --test browser
rm -rf "$wasm_tmp"

step "release build of the site"
trunk build --release --offline --quiet
scripts/size-report.sh dist

step "end-to-end tests in Chromium"
mkdir -p test-output
cargo build --quiet -p podpath-cli
PODPATH_BIN="$PWD/target/debug/podpath" PODPATH_DIST="$PWD/dist" PODPATH_OUT="$PWD/test-output" \
  node --test --test-reporter=spec web/e2e/

step "fuzzing, a minute per target"
scripts/fuzz.sh 60
