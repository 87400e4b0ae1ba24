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
# Large reads are answered in RowBinary, recorded as hex: compared as bytes, in any row order.
BINARY = " FORMAT RowBinary"
# Answers that depend on the server or the clock, not on Skein's SQL.
UNCOMPARABLE = re.compile(r"version\(\)|now\(\)", re.I)
MUTATION = re.compile(r"^ALTER TABLE .* DELETE WHERE ", re.S)
DATABASE = re.compile(r"`([^`]+)`\.")


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
    # The engine's files live only as long as the replay (every test run makes one).
    with tempfile.TemporaryDirectory(prefix="skein-chdb-", ignore_cleanup_errors=True) as data:
        replay(path, data)


def replay(path, data):
    s = session.Session(data)
    server = s.query("SELECT version()", "TabSeparated").bytes().decode().strip()
    # Span inserts are replayed as `format(RowBinary, ..., '<bytes>')` statements, as large as
    # the batch they carry.
    s.query("SET max_query_size = 1073741824")
    statements = queries = compared = 0
    with open(path) as log:
        entries = [json.loads(line) for line in log]
    # A query asked again is a read after more writes: only its last asking is compared. Reads
    # of a database after a mutation (ALTER ... DELETE, which the recording server applies in
    # the background and chdb at once) may have raced it there: they run, but are not compared.
    last = {entry["sql"]: number for number, entry in enumerate(entries, 1)}
    mutated = set()
    for number, entry in enumerate(entries, 1):
        if entry.get("error"):
            continue  # it failed on the recording server too
        sql = entry["sql"]
        for key, value in entry["settings"]:
            if key == "insert_distributed_sync":
                continue  # no Distributed table here; renamed on current servers
            s.query(f"SET {key} = {value!r}" if not value.isdigit() else f"SET {key} = {value}")
        statements += 1
        database = DATABASE.search(sql)
        database = database.group(1) if database else ""
        if sql.endswith(BINARY):
            queries += 1
            got = s.query(sql[: -len(BINARY)], "RowBinary").bytes()
            if UNCOMPARABLE.search(sql) or last[sql] != number or database in mutated:
                continue
            want = bytes.fromhex(entry["answer"] or "")
            # Rows may come in another order: the same bytes, counted, is the same rows.
            if sorted(want) != sorted(got):
                print(f"statement {number} answers differently on {server}:\n{sql}\n"
                      f"recorded: {want.hex()}\nchdb: {got.hex()}", file=sys.stderr)
                sys.exit(1)
            compared += 1
            continue
        if not sql.endswith(FORMAT):
            if MUTATION.search(sql):
                mutated.add(database)
            s.query(sql)
            continue
        queries += 1
        text = s.query(sql[: -len(FORMAT)], "JSONEachRow").bytes().decode()
        if UNCOMPARABLE.search(sql) or last[sql] != number or database in mutated:
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
    print(json.dumps({"server": server, "statements": statements, "queries": queries,
                      "compared": compared}))


if __name__ == "__main__":
    main(sys.argv[1])
