#!/usr/bin/env bash
# Multiplies the spans a ClickHouse node holds (a pool loaded through the collector) until it
# holds SPANS, server-side, for the query benchmark only (`clickhouse.sh queries N --fill`):
#
#   bash bench/clickhouse-fill.sh http://127.0.0.1:18123 10000000
#
# Copy k of the pool is `INSERT INTO skein.spans SELECT ...` and `INSERT INTO skein.received
# SELECT ...` (the tables OTLP ingest writes; `span_projects` already names the project) from a
# snapshot of the pool, with the trace ids' first 8 hex digits set to k, the span and parent ids'
# first 4, the session ids suffixed `~k` (the span's stored body rewritten alike), and every
# time (start, end, arrival's date) moved back by k times the pool's spread of starts, so the
# copies are an older history of the same shape. Each insert goes through `spans`' views, so
# the per-trace tables are fed as ingest feeds them (and the traces a copy split across blocks
# are named split at the end). Prints the copies' rate and the load.
set -euo pipefail
ch=${1:?usage: clickhouse-fill.sh CH_URL SPANS}
target=${2:?usage: clickhouse-fill.sh CH_URL SPANS}
q() {
    local out
    out=$(curl -sS "$ch/" --data-binary "$1")
    if [[ "$out" == Code:* ]]; then
        echo "ClickHouse refused: $out" >&2
        return 1
    fi
    printf '%s' "$out"
}

q "DROP DATABASE IF EXISTS skein_fill" >/dev/null
q "CREATE DATABASE skein_fill" >/dev/null
q "CREATE TABLE skein_fill.spans ENGINE = MergeTree ORDER BY tuple() AS SELECT * FROM skein.spans FINAL" >/dev/null
q "CREATE TABLE skein_fill.received ENGINE = MergeTree ORDER BY tuple() AS SELECT * FROM skein.received" >/dev/null
pool=$(q "SELECT count() FROM skein_fill.spans")
[ "$pool" -gt 0 ] || { echo "no spans to copy" >&2; exit 1; }
# The pool's spread of starts, plus a minute: copy k lies k spreads before the pool.
spread=$(q "SELECT max(greatest(end_ns, start_ns)) - min(start_ns) + 60000000000 FROM skein_fill.spans")
copies=$(((target + pool - 1) / pool - 1))
echo "pool: $pool spans, spread $((spread / 1000000000)) s; $copies copies to reach $target"

# Each column as copy k writes it ({k}, {k8}, {k4} and {shift} replaced per copy).
trace="concat('{k8}', substring(trace_id, 9))"
span="concat('{k4}', substring(span_id, 5))"
parent="if(parent_span_id = '', '', concat('{k4}', substring(parent_span_id, 5)))"
session="if(session_id = '', '', concat(session_id, '~{k}'))"
# 18.16 replaces by constant patterns only: the ids' digits by position ({k8} and {k4}: k in 8
# and 4 hex digits). The body keeps the pool's times (no arithmetic in a replacement).
body="replaceRegexpOne(body, '\"trace_id\":\"[0-9a-f]{8}', '\"trace_id\":\"{k8}')"
body="replaceRegexpOne($body, '\"span_id\":\"[0-9a-f]{4}', '\"span_id\":\"{k4}')"
body="replaceRegexpOne($body, '\"parent_span_id\":\"[0-9a-f]{4}', '\"parent_span_id\":\"{k4}')"
body="replaceRegexpOne($body, '\"session_id\":\"([^\"]*)\"', '\"session_id\":\"\\\\1~{k}\"')"
expression() {
    case "$1" in
    trace_id) echo "$trace" ;;
    span_id) echo "$span" ;;
    parent_span_id) echo "$parent" ;;
    session_id) echo "$session" ;;
    start_ns | end_ns) echo "$1 - {shift}" ;;
    arrived) echo "toDateTime(toUInt32(arrived) - intDiv({shift}, 1000000000))" ;;
    body) echo "$body" ;;
    *) echo "$1" ;;
    esac
}
select_of() {
    local columns list="" selects=""
    columns=$(q "SELECT name FROM system.columns WHERE database = 'skein' AND table = '$1'")
    [ -n "$columns" ] || return 1
    for c in $columns; do
        list="$list${list:+, }$c"
        selects="$selects${selects:+, }$(expression "$c")"
    done
    echo "INSERT INTO skein.$1 ($list) SELECT $selects FROM skein_fill.$1"
}
spans_sql=$(select_of spans) || exit 1
received_sql=$(select_of received) || exit 1
started=$(date +%s.%N)
for k in $(seq 1 "$copies"); do
    shift_ns=$((k * spread))
    sql=${spans_sql//\{k\}/$k}
    sql=${sql//\{k8\}/$(printf %08x "$k")}
    sql=${sql//\{k4\}/$(printf %04x "$k")}
    q "${sql//\{shift\}/$shift_ns}" >/dev/null
    sql=${received_sql//\{k8\}/$(printf %08x "$k")}
    sql=${sql//\{k4\}/$(printf %04x "$k")}
    q "${sql//\{shift\}/$shift_ns}" >/dev/null
    if [ $((k % 10)) -eq 0 ] || [ "$k" -eq "$copies" ]; then
        echo "copy $k/$copies: $(q "SELECT count() FROM skein.spans") span rows, load $(cut -d' ' -f1 /proc/loadavg)"
    fi
done
seconds=$(echo "$(date +%s.%N) - $started" | bc)
echo "copied $((copies * pool)) spans in ${seconds} s ($(echo "$copies * $pool / $seconds" | bc) spans/s), load $(cut -d' ' -f1-3 /proc/loadavg)"
# A copy's insert is cut into blocks, and the per-trace rows' view runs a block at a time, so a
# trace cut between two blocks has two rows: named split here as the collector names a split
# after each insert it writes (schema 13 and later).
# The per-trace rows: `trace_parts` from schema 16, `trace_rows` in 13-15.
rows_table=trace_rows
[ "$(q "EXISTS TABLE skein.trace_parts")" = 1 ] && rows_table=trace_parts
if [ "$(q "EXISTS TABLE skein.trace_splits")" = 1 ]; then
    q "INSERT INTO skein.trace_splits SELECT project, trace_id, now() FROM skein.$rows_table GROUP BY project, trace_id HAVING count() > 1 OR countIf(row_count != span_ids) > 0" >/dev/null
    echo "split traces: $(q "SELECT count() FROM skein.trace_splits")"
fi
# Of those, the ones with a span stored twice (schema 15 and later; none from the copies).
if [ "$(q "EXISTS TABLE skein.trace_repeats")" = 1 ]; then
    q "INSERT INTO skein.trace_repeats SELECT project, trace_id, now() FROM skein.spans WHERE (project, trace_id) IN (SELECT project, trace_id FROM skein.trace_splits) GROUP BY project, trace_id HAVING count() > uniqExact(span_id)" >/dev/null
    echo "repeated traces: $(q "SELECT count() FROM skein.trace_repeats")"
fi
q "DROP DATABASE skein_fill" >/dev/null
