#!/usr/bin/env bash
# The ingest and query benchmarks against one ClickHouse node (Debian's clickhouse-server,
# started from a fresh config, `bench/clickhouse-node.sh`) behind a release collector:
#
#   bash bench/clickhouse.sh ingest 1000000    # target/release/ingest, one run
#   bash bench/clickhouse.sh queries 10000000  # target/release/queries, without feedback
#   bash bench/clickhouse.sh queries 10000000 --fill [POOL]
#
# `--fill` (queries only) reaches the size in minutes: a pool of POOL spans (default 200,000) is
# loaded through the collector (`ingest`, its rate printed), then copied server-side
# (`bench/clickhouse-fill.sh`: every table OTLP ingest writes, the per-trace table fed by its
# view as an insert feeds it) until SPANS are stored; then `queries` loads the 100k-span trace
# through the collector and times the reads.
#
# Prints the benchmark's own lines, then the collector's and the server's peak RSS, the
# server's CPU seconds (merges included, up to then), and the
# bytes on disk a span (the active parts of every Skein table, and of `spans` and `traces`).
# Everything (server data included) is in a temp dir removed at the end. Extra arguments after
# the size go to the benchmark (`--repeats 10`, `--big-trace-spans 0`...). With
# SKEIN_BENCH_BEFORE / SKEIN_BENCH_AFTER=COMMAND, COMMAND runs before the benchmark / at the end
# with CH_URL set to the server's HTTP address (and at the end API_URL to the collector's).
# SKEIN_CH_QUERY_LOG=1 has the server log every query to `system.query_log`
# (`bench/clickhouse-node.sh`): what each query of an API call read and how long it took.
# With SKEIN_BENCH_TRASH=DIR the temp dir is moved into DIR instead of removed, for the caller to
# remove later (`bench/ingest-engines.sh`: a removal just before a run slows ClickHouse's).
set -euo pipefail
what=${1:?usage: clickhouse.sh ingest|queries SPANS [ARGS...]}
spans=${2:?usage: clickhouse.sh ingest|queries SPANS [ARGS...]}
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
release=${CARGO_TARGET_DIR:-$root/target}/release
dir=$(mktemp -d /tmp/skein-ch-bench.XXXXXX)
port=$((20000 + RANDOM % 20000))
ch_pid=$(bash "$root/bench/clickhouse-node.sh" "$dir/ch" "$port")
collector_pid=""
cleanup() {
    [ -n "$collector_pid" ] && kill "$collector_pid" 2>/dev/null || true
    kill "$ch_pid" 2>/dev/null || true
    sleep 2
    if [ -n "${SKEIN_BENCH_TRASH:-}" ]; then
        mv "$dir" "$SKEIN_BENCH_TRASH"/
    else
        rm -rf "$dir"
    fi
}
trap cleanup EXIT
ch="http://127.0.0.1:$port"

SKEIN_LOG=warn "$release/skein" serve --http-addr 127.0.0.1:0 --otlp-addr 127.0.0.1:0 \
    --otlp-grpc-addr off --data-dir "$dir/skein" --clickhouse-url "$ch" >"$dir/skein.out" 2>&1 &
collector_pid=$!
for _ in $(seq 1 300); do
    grep -q "http://" "$dir/skein.out" 2>/dev/null && break
    sleep 0.1
done
urls=$(grep -o 'http://[^ )]*' "$dir/skein.out" | head -2)
api=$(echo "$urls" | sed -n 1p | sed 's#/traces$##')
otlp=$(echo "$urls" | sed -n 2p)

if [ -n "${SKEIN_BENCH_BEFORE:-}" ]; then
    CH_URL=$ch bash -c "$SKEIN_BENCH_BEFORE"
fi
case "$what" in
ingest)
    "$release/ingest" --otlp-url "$otlp" --api-url "$api" --collector-pid "$collector_pid" \
        --spans "$spans" --no-record "$@"
    ;;
queries)
    if [ "${1:-}" = "--fill" ]; then
        shift
        pool=200000
        if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
            pool=$1
            shift
        fi
        "$release/ingest" --otlp-url "$otlp" --api-url "$api" --collector-pid "$collector_pid" \
            --spans "$pool" --no-record
        echo "load before copying: $(cut -d' ' -f1-3 /proc/loadavg)"
        bash "$root/bench/clickhouse-fill.sh" "$ch" "$spans"
        "$release/queries" --api-url "$api" --otlp-url "$otlp" --spans 0 --feedback 0 \
            --no-record "$@"
    else
        "$release/queries" --api-url "$api" --otlp-url "$otlp" --spans "$spans" --feedback 0 \
            --no-record "$@"
    fi
    ;;
*)
    echo "ingest or queries" >&2
    exit 2
    ;;
esac

q() { curl -s "$ch/" --data-binary "$1"; }
echo "collector peak RSS: $(grep VmHWM /proc/$collector_pid/status | awk '{print $2/1024}') MiB"
echo "server peak RSS: $(grep VmHWM /proc/$ch_pid/status | awk '{print $2/1024}') MiB"
echo "server CPU s: $(awk '{print ($14 + $15) / 100}' /proc/$ch_pid/stat)"
stored=$(q "SELECT count() FROM skein.spans FINAL")
echo "spans stored: $stored"
q "SELECT table, sum(bytes) AS b, round(sum(bytes) / $stored, 1) AS per_span FROM system.parts
   WHERE database = 'skein' AND active GROUP BY table ORDER BY b DESC FORMAT PrettyCompactNoEscapes"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${SKEIN_BENCH_AFTER:-}" ]; then
    CH_URL=$ch API_URL=$api bash -c "$SKEIN_BENCH_AFTER"
fi
