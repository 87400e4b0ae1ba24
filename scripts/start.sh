#!/usr/bin/env bash
# Installs what is missing, builds the dashboard and the collector, and runs Skein with the demo
# data on an embedded SQLite store (./skein-data): the dashboard on :8080, OTLP/HTTP on :4318 and
# OTLP/gRPC on :4317. Extra arguments go to `skein serve`, e.g.
#   bash scripts/start.sh --http-addr 0.0.0.0:8080
#   bash scripts/start.sh --otlp-grpc-addr off     # when another collector has 4317
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=setup.sh
source scripts/setup.sh
setup_all
bash scripts/build-dashboard.sh
cargo build --release --locked -p skein-collector
exec "${CARGO_TARGET_DIR:-target}/release/skein" serve --demo --dist dist "$@"
