#!/usr/bin/env bash
# Installs what is missing, builds the dashboard and the collector, and runs Skein with the demo
# data on an embedded SQLite store (./skein-data). Extra arguments go to `skein serve`, e.g.
#   bash scripts/start.sh --http-addr 0.0.0.0:8080
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=setup.sh
source scripts/setup.sh
setup_all
bash scripts/build-dashboard.sh
cargo build --release --locked -p skein-collector
exec "${CARGO_TARGET_DIR:-target}/release/skein" serve --demo --dist dist "$@"
