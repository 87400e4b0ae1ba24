#!/usr/bin/env bash
# Runs every test, on a fresh machine too: installs what is missing (scripts/setup.sh), checks
# formatting and lints, builds the dashboard, then runs the native tests of the model and the
# collector and the browser tests. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=setup.sh
source scripts/setup.sh
setup_all

step() { printf '\n==> %s\n' "$*" >&2; }

step "formatting"
cargo fmt --all --check

step "lints (native)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "lints (dashboard, wasm32)"
cargo clippy -p skein-dashboard --target wasm32-unknown-unknown --locked -- -D warnings

step "dashboard build"
bash scripts/build-dashboard.sh

step "tests"
# The collector binary first: the browser tests start it.
cargo build -p skein-collector --locked
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"

# One closing line for the whole run (cargo prints one per test binary, the last often a
# doc-test binary with nothing in it).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "\ntests: %d passed, %d failed\n", p, f }' "$log"
