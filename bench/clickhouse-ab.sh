#!/usr/bin/env bash
# Two collector builds timed on the same ClickHouse data, one right after the other:
#
#   bash bench/clickhouse-ab.sh SPANS [POOL [REPEATS]]
#
# One node (`bench/clickhouse-node.sh`); build A (SKEIN_AB_A, default /work/main's release
# `skein`) loads a pool of POOL seed-shaped spans (default 100,000) through OTLP, the pool is
# copied server-side up to SPANS (`bench/clickhouse-fill.sh`), and the 100k-span trace is sent
# through A (`queries --big-trace-spans`, stopped once it is stored). A answers each read
# REPEATS times (default 5); then A stops, build B (SKEIN_AB_B, default this tree's release
# `skein`) opens the same database (upgrading its schema, backfills included, timed) and
# answers the same reads. Prints one line a call: build, read, HTTP status, seconds, load.
# Everything is in a temp dir removed at the end.
set -euo pipefail
spans=${1:?usage: clickhouse-ab.sh SPANS [POOL [REPEATS]]}
pool=${2:-100000}
repeats=${3:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
release=${CARGO_TARGET_DIR:-$root/target}/release
a_bin=${SKEIN_AB_A:-/work/main/target/release/skein}
b_bin=${SKEIN_AB_B:-$release/skein}
dir=$(mktemp -d /tmp/skein-ch-ab.XXXXXX)
port=$((20000 + RANDOM % 20000))
ch_pid=$(bash "$root/bench/clickhouse-node.sh" "$dir/ch" "$port")
ch="http://127.0.0.1:$port"
collector_pid=""
loader_pid=""
cleanup() {
    [ -n "$loader_pid" ] && kill "$loader_pid" 2>/dev/null || true
    [ -n "$collector_pid" ] && kill "$collector_pid" 2>/dev/null || true
    kill "$ch_pid" 2>/dev/null || true
    sleep 2
    rm -rf "$dir"
}
trap cleanup EXIT

# Starts a collector binary against the node; sets collector_pid, api, otlp.
start() {
    local out="$dir/skein-$2.out"
    SKEIN_LOG=warn "$1" serve --http-addr 127.0.0.1:0 --otlp-addr 127.0.0.1:0 \
        --otlp-grpc-addr off --data-dir "$dir/skein-$2" --clickhouse-url "$ch" >"$out" 2>&1 &
    collector_pid=$!
    for _ in $(seq 1 36000); do
        grep -q "http://[^ )]*/traces" "$out" 2>/dev/null && break
        kill -0 "$collector_pid" 2>/dev/null || { cat "$out" >&2; exit 1; }
        sleep 0.1
    done
    # The dashboard's line and the OTLP line (a warning may name ClickHouse's address first).
    api=$(grep -o 'http://[^ )]*/traces' "$out" | head -1 | sed 's#/traces$##')
    otlp=$(grep -o 'http://[^ )]*/v1/traces' "$out" | head -1)
    grep -v 'http://[^ )]*/traces' "$out" | head -5 >&2 || true
}

stop() {
    kill "$collector_pid" 2>/dev/null || true
    wait "$collector_pid" 2>/dev/null || true
    collector_pid=""
}

chq() {
    curl -sS "$ch/" --data-binary "$1"
}

start "$a_bin" a
"$release/ingest" --otlp-url "$otlp" --api-url "$api" --collector-pid "$collector_pid" \
    --spans "$pool" --no-record | tail -3
bash "$root/bench/clickhouse-fill.sh" "$ch" "$spans" | tail -2
"$release/queries" --api-url "$api" --otlp-url "$otlp" --spans 0 --feedback 0 --repeats 1 \
    --big-trace-spans 100000 --no-record >"$dir/loader.out" 2>&1 &
loader_pid=$!
big=""
for _ in $(seq 1 1800); do
    big=$(chq "SELECT trace_id FROM skein.spans GROUP BY trace_id HAVING count() >= 100000 LIMIT 1")
    [ -n "$big" ] && break
    sleep 1
done
# Acknowledged in 10 requests: wait for the last one, then stop the loader's timed reads.
for _ in $(seq 1 600); do
    [ "$(chq "SELECT uniqExact(span_id) FROM skein.spans WHERE trace_id = '$big'")" = 100000 ] && break
    sleep 1
done
kill "$loader_pid" 2>/dev/null || true
loader_pid=""
echo "stored: $(chq "SELECT count() FROM skein.spans") span rows; big trace $big"

reads=(
    "list_tag /api/v1/traces?tag=env%3Dproduction&limit=50"
    "list_3tags /api/v1/traces?tag=env%3Dproduction&tag=version%3Dv2.1.0&tag=ab_test_variant%3DB&limit=50"
    "list /api/v1/traces?limit=50"
    "metric_tag /api/v1/metrics?metric=latency_p95&group_by=ab_test_variant"
    "skeleton_100k /api/v1/traces/$big"
    "projects /api/v1/projects"
)

time_reads() {
    for ((i = 0; i < repeats; i++)); do
        for read in "${reads[@]}"; do
            local name=${read%% *} path=${read#* }
            local out
            out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H 'x-skein-project: bench' \
                --max-time 120 "$api$path" || echo "000 120")
            echo "$1 $name $out load $(cut -d' ' -f1 /proc/loadavg)"
        done
    done
}

time_reads A
stop
t0=$(date +%s.%N)
start "$b_bin" b
echo "B opened (schema upgrade) in $(echo "$(date +%s.%N) - $t0" | bc) s"
time_reads B
stop
