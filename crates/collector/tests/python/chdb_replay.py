"""Replays what Skein sent one ClickHouse (a `ClickhouseOptions::sql_log`: JSON lines of
statement, URL settings and answer) on the ClickHouse engine embedded in chdb (PyPI
`chdb-core`, current releases), and checks that every statement runs there too and every
query answers the same rows.

    python chdb_replay.py SQL_LOG

Prints one JSON line: {"server": version, "statements": n, "queries": n, "compared": n}; exits 1
with the first difference.
"""

import json
import math
import re
import sys
import tempfile

from chdb import session

FORMAT = " FORMAT JSONEachRow"
# Answers that depend on the server or the clock, not on Skein's SQL.
UNCOMPARABLE = re.compile(r"version\(\)|now\(\)", re.I)


def rows(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    # 64-bit integers may come quoted from one server and not the other.
    if isinstance(a, (int, str)) and isinstance(b, (int, str)) and type(a) is not type(b):
        return str(a) == str(b)
    return a == b


def main(path):
    s = session.Session(tempfile.mkdtemp(prefix="skein-chdb-"))
    server = s.query("SELECT version()", "TabSeparated").bytes().decode().strip()
    statements = queries = compared = 0
    with open(path) as log:
        for number, line in enumerate(log, 1):
            entry = json.loads(line)
            if entry.get("error"):
                continue  # it failed on the recording server too
            sql = entry["sql"]
            for key, value in entry["settings"]:
                if key == "insert_distributed_sync":
                    continue  # no Distributed table here; renamed on current servers
                s.query(f"SET {key} = {value!r}" if not value.isdigit() else f"SET {key} = {value}")
            statements += 1
            if sql.endswith(FORMAT):
                queries += 1
                text = s.query(sql[: -len(FORMAT)], "JSONEachRow").bytes().decode()
                if UNCOMPARABLE.search(sql):
                    continue
                want, got = rows(entry["answer"] or ""), rows(text)
                if not re.search(r"ORDER BY [^()]*$", sql[: -len(FORMAT)]):
                    want = sorted(want, key=lambda r: json.dumps(r, sort_keys=True))
                    got = sorted(got, key=lambda r: json.dumps(r, sort_keys=True))
                if not same(want, got):
                    print(f"statement {number} answers differently on {server}:\n{sql}\n"
                          f"recorded: {want}\nchdb: {got}", file=sys.stderr)
                    sys.exit(1)
                compared += 1
            else:
                s.query(sql)
    print(json.dumps({"server": server, "statements": statements, "queries": queries,
                      "compared": compared}))


if __name__ == "__main__":
    main(sys.argv[1])
