#!/usr/bin/env bash
# Starts one ClickHouse server (Debian's clickhouse-server, as the tests run it) for the
# benchmarks, from a fresh config in DIR, its HTTP port on 127.0.0.1:HTTP_PORT; prints its pid
# once it answers. Stop it with `kill PID`; remove DIR afterwards. With SKEIN_CH_QUERY_LOG=1 the
# server logs every query to `system.query_log` (duration, rows and bytes read, memory), to see
# which query of an API call costs what.
#
#   bash bench/clickhouse-node.sh /tmp/ch-bench 18123
set -euo pipefail
dir=${1:?usage: clickhouse-node.sh DIR HTTP_PORT}
http=${2:?usage: clickhouse-node.sh DIR HTTP_PORT}
tcp=$((http + 1))
inter=$((http + 2))
bin=$(command -v clickhouse-server || echo /usr/sbin/clickhouse-server)
mkdir -p "$dir/data" "$dir/tmp"
profile="" query_log=""
if [ "${SKEIN_CH_QUERY_LOG:-0}" = 1 ]; then
    profile="<log_queries>1</log_queries>"
    query_log="<query_log><database>system</database><table>query_log</table><flush_interval_milliseconds>2000</flush_interval_milliseconds></query_log>"
fi
cat >"$dir/users.xml" <<EOF
<yandex><profiles><default>$profile</default></profiles><users><default><password></password>
<networks><ip>::1</ip><ip>127.0.0.1</ip></networks><profile>default</profile>
<quota>default</quota></default></users><quotas><default></default></quotas></yandex>
EOF
cat >"$dir/config.xml" <<EOF
<yandex><logger><level>warning</level><log>$dir/server.log</log><errorlog>$dir/error.log</errorlog></logger>
<http_port>$http</http_port><tcp_port>$tcp</tcp_port><interserver_http_port>$inter</interserver_http_port>
<listen_host>127.0.0.1</listen_host><path>$dir/data/</path><tmp_path>$dir/tmp/</tmp_path>
<users_config>$dir/users.xml</users_config><default_profile>default</default_profile>
<default_database>default</default_database><mark_cache_size>268435456</mark_cache_size>$query_log</yandex>
EOF
"$bin" --config-file="$dir/config.xml" >"$dir/stdout.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
    if [ "$(curl -s "http://127.0.0.1:$http/?query=SELECT%201" || true)" = "1" ]; then
        echo "$pid"
        exit 0
    fi
    sleep 0.1
done
echo "clickhouse-server did not start: $(tail -5 "$dir/error.log" 2>/dev/null)" >&2
kill "$pid" 2>/dev/null || true
exit 1
