#!/usr/bin/env bash
# Issue 22's ingest comparison on this machine: SPANS spans (default 1,000,000) into the
# embedded SQLite store and into one ClickHouse node (`bench/clickhouse.sh ingest`), one after
# the other for ROUNDS rounds (default 2), each on a fresh collector and database; prints
# spans/s acknowledged side by side, with the ClickHouse server's CPU seconds. Release
# binaries from ${CARGO_TARGET_DIR:-target}/release (`cargo build --release -p skein-bench
# -p skein-collector`).
#
#   bash bench/ingest-engines.sh [SPANS] [ROUNDS]
#
# CONNECTIONS=N sets the benchmark's concurrent connections (default 4): ClickHouse writes a
# batch of whatever requests wait, so more senders make larger inserts.
#
# On a filesystem without a journal (this machine's ext4), creating a file scans past the
# inodes freed in the last minutes; ClickHouse creates a directory and two files a column for
# every part it writes, so a mass removal just before its run (a previous run's temp dir, a
# cargo build's) costs it up to 1.6x the server CPU. So the runs' dirs are removed only at
# the end, and the script waits QUIET seconds (default 420) before the first run.
set -euo pipefail
spans=${1:-1000000}
rounds=${2:-2}
connections=${CONNECTIONS:-4}
root=$(cd "$(dirname "$0")/.." && pwd)
release=${CARGO_TARGET_DIR:-$root/target}/release
trash=$(mktemp -d "${TMPDIR:-/tmp}/skein-ingest-engines.XXXXXX")
trap 'rm -rf "$trash"' EXIT
sleep "${QUIET:-420}"
for round in $(seq 1 "$rounds"); do
    echo "== round $round, $(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo -n "sqlite     "
    "$release/ingest" --collector-bin "$release/skein" --spans "$spans" --runs 1 --no-record \
        --connections "$connections" 2>&1 | grep "^ingest:"
    echo -n "clickhouse "
    SKEIN_BENCH_TRASH=$trash bash "$root/bench/clickhouse.sh" ingest "$spans" \
        --connections "$connections" 2>&1 | grep -E "^ingest:|server CPU"
done
