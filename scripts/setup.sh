#!/usr/bin/env bash
# Installs whatever podpath's build and tests need and this machine lacks.
#   scripts/setup.sh serve   what the page needs: the wasm32 target, Trunk,
#                            the wasm-bindgen CLI at exactly the version
#                            Cargo.lock resolves, and the npm tools in web/
#                            (binaryen's wasm-opt, playwright-core);
#   scripts/setup.sh         all of that, and what the tests need besides:
#                            cargo-nextest, nightly and cargo-fuzz, Chromium
#                            and chromedriver, the real networking tools.
# A first `serve` does not wait for a browser or a fuzzer it does not use.
# Trunk (a debug build) and the wasm-bindgen CLI, the two long compiles,
# are built side by side. Idempotent, and silent when everything is already there. Needs
# rustup, and root or sudo for Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-test}" in
  serve) for_tests=false ;;
  test) for_tests=true ;;
  *) echo "usage: scripts/setup.sh [serve|test]" >&2; exit 2 ;;
esac

TRUNK_VERSION=0.21.14
say() { echo "setup: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_missing=()
need_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || apt_missing+=("$1"); }
command -v node >/dev/null && command -v npm >/dev/null || { need_pkg nodejs; need_pkg npm; }
if $for_tests; then
  need_pkg chromium
  need_pkg chromium-driver
  # The generated rules are checked against the real tools in a network namespace.
  need_pkg iptables
  need_pkg nftables
  need_pkg ipset
  need_pkg iproute2
  # The pcap test decodes with tshark (its debconf question is answered non-interactively).
  need_pkg tshark
  # The kernel lab captures every interface with tcpdump and reads conntrack.
  need_pkg tcpdump
  need_pkg conntrack
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  say "installing ${apt_missing[*]} (apt)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown >/dev/null 2>&1
fi

# The CLI must equal the wasm-bindgen crate the app links, or its output
# does not load; Trunk.toml names the same version so Trunk downloads nothing.
wbg=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$wbg" ]; then say "Cargo.lock has no wasm-bindgen"; exit 1; fi
if ! grep -q "^wasm_bindgen = \"$wbg\"" Trunk.toml; then
  say "Trunk.toml's wasm_bindgen differs from Cargo.lock's $wbg: make them equal"
  exit 1
fi

# The two long compiles run side by side: each spends minutes on one crate
# at a time (linking, the last crate), which leaves a core idle.
pids=()
if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (several minutes, once)"
  # Trunk only runs cargo, wasm-bindgen and wasm-opt and copies files: a
  # debug build of it does that as well as its release profile (fat LTO,
  # one codegen unit), and builds in 5 minutes instead of over 8 here.
  cargo install -q --locked --debug trunk --version "$TRUNK_VERSION" &
  pids+=($!)
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wbg" ] ||
   [ "$(wasm-bindgen-test-runner --version 2>/dev/null)" != "wasm-bindgen-test-runner $wbg" ]; then
  say "installing wasm-bindgen-cli $wbg (a few minutes, once)"
  # Not --locked: its published lock file names a crate version the registry lacks.
  cargo install -q wasm-bindgen-cli --version "$wbg" &
  pids+=($!)
fi
for pid in "${pids[@]}"; do wait "$pid"; done

# npm tools, pinned by web/package-lock.json. The stamp records which lock
# file node_modules was installed from.
if ! cmp -s web/package-lock.json web/node_modules/.podpath-lock 2>/dev/null; then
  say "installing web/ npm tools (binaryen, playwright-core)"
  (cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp web/package-lock.json web/node_modules/.podpath-lock
fi

$for_tests || exit 0

# Fuzzing: cargo-fuzz runs the targets in fuzz/ with the nightly toolchain.
if ! rustup toolchain list | grep -q '^nightly'; then
  say "adding the nightly toolchain (for cargo fuzz)"
  rustup toolchain install nightly --profile minimal >/dev/null 2>&1
fi
if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz 0.13.2" ]; then
  say "installing cargo-fuzz 0.13.2 (two minutes, once)"
  cargo install -q --locked cargo-fuzz --version 0.13.2
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  say "installing cargo-nextest"
  cargo install -q --locked cargo-nextest
fi
