#!/usr/bin/env bash
# Prints the size of every file a browser downloads from a built site
# (default dist/): raw, gzip -9 and, where brotli is installed, brotli.
set -euo pipefail
dist=${1:-dist}
printf '%-44s %10s %10s %10s\n' "size report ($dist)" raw gzip brotli
total_raw=0 total_gz=0
for f in "$dist"/*.wasm "$dist"/*.js "$dist"/*.css "$dist"/*.html; do
  [ -f "$f" ] || continue
  raw=$(wc -c <"$f")
  gz=$(gzip -9c "$f" | wc -c)
  if command -v brotli >/dev/null; then br=$(brotli -c -q 11 "$f" | wc -c); else br=-; fi
  printf '%-44s %10d %10d %10s\n' "$(basename "$f")" "$raw" "$gz" "$br"
  total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz))
done
printf '%-44s %10d %10d\n' total "$total_raw" "$total_gz"
