#!/usr/bin/env bash
# Builds the dashboard into dist/ (release: split wasm, wasm-opt -Oz), without any download:
# Trunk runs offline and finds the tools scripts/setup.sh installed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=setup.sh
source scripts/setup.sh
for tool in trunk wasm-split-cli wasm-bindgen wasm-opt; do
    command -v "$tool" >/dev/null || { echo "$tool not found: run scripts/setup.sh" >&2; exit 1; }
done
trunk build --release --offline "$@"
test -f dist/index.html
echo "dashboard built: $(du -sh dist | cut -f1) in dist/" >&2
