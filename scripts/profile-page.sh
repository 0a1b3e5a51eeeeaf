#!/usr/bin/env bash
# Where an edit of a big scenario spends the page's main thread: builds the
# site with the Wasm's function names kept (dist-profile/), then profiles
# one edit in the system's Chromium (web/bench/profile.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/web/node_modules/.bin:$PATH"
trunk build --release --offline --quiet --dist dist-profile
wasm=$(ls target/wasm32-unknown-unknown/wasm/podpath-web.wasm)
out=$(ls dist-profile/*_bg.wasm)
# The release build's own Wasm, bound again without stripping names.
tmp=$(mktemp -d)
wasm-bindgen --target web --keep-debug --out-dir "$tmp" "$wasm"
cp "$tmp/podpath-web_bg.wasm" "$out"
# The loader names the Wasm by its hash, not by its content: it loads as is.
rm -rf "$tmp"
node web/bench/profile.mjs
