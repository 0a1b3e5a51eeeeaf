#!/usr/bin/env bash
# The page's weight, time to interactive and animation frame times, measured
# in the system's Chromium on a release build (web/bench/page.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/web/node_modules/.bin:$HOME/.cargo/bin:$PATH"
trunk build --release --offline --quiet
node web/bench/page.mjs
