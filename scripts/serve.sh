#!/usr/bin/env bash
# Installs what is missing, then serves the playground with live reload at
# http://127.0.0.1:8080 (the default scenario opens there).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh serve
export PATH="$PWD/web/node_modules/.bin:$PATH"
echo "podpath: serving http://127.0.0.1:8080/ (Ctrl-C stops)" >&2
exec trunk serve --offline "$@"
