#!/usr/bin/env python3
"""Merges wasm-split-cli's small shared chunks into fewer, larger ones (scripts/build-wasm.sh).

wasm-split-cli cuts one chunk for every set of split points (lazy pages) that reaches a piece
of code: with a dozen split points that is hundreds of chunks, most under 1 KiB, and a page
loads a hundred or more of them. Each module compresses on its own and carries its own
header, imports and element and data segments, so many small ones cost more than their code.

A chunk only writes its functions into the shared table and its data into the shared memory
(it imports `memory`, `__indirect_function_table` and the stack pointer from the main module
and exports nothing), so two chunks can be one module: loading it does what loading both did.
The merged chunk is needed by every page that needed either, so a merge is worth it only where
the modules saved outweigh the code some pages now load without needing it. This script
plans merges greedily on gzipped sizes, merges each group with binaryen's wasm-merge (through a
hub module that re-exports the three imports, so the group imports each once), and rewrites the
loader `__wasm_split.js` to fetch the groups.

Usage: merge-chunks.py PKG_DIR SECONDARY WASM_MERGE [FEATURE_FLAGS...]
(SECONDARY: the split points, comma-separated, that are not pages but parts loaded after one)
"""

import gzip
import os
import re
import subprocess
import sys
import tempfile

# What one module more costs a page, in gzipped bytes (header, imports, segments, the
# compression window starting empty): measured on the dashboard's chunks, where merging a
# page's 200 chunks into one took ~250 bytes a module off.
MODULE_COST = int(os.environ.get("SKEIN_MERGE_MODULE_COST", "600"))

CHUNK_RE = re.compile(
    r"/\* (?P<users>[^*]*) \*/\nconst (?P<name>__chunk_\d+) = makeLoad\(\(\) => \{\n"
    r'    const src = fetch\(new URL\("\./(?P<file>chunk_\d+\.wasm)", import\.meta\.url\)\);\n'
    r".*?\n\}\n, \[\]\);\n",
    re.S,
)
DEPS_RE = re.compile(r"\n, \[([^\]]*)\]")

HUB = "__wasm_hub__"  # as long as "__wasm_split": renamed in place after the merge


def leb(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_leb(data, at):
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def name(text):
    raw = text.encode()
    return leb(len(raw)) + raw


def hub_module(memory_pages, table_size):
    """A module importing the three things every chunk imports and exporting them again."""
    limits = lambda n: b"\x00" + leb(n)
    imports = [
        name(HUB) + name("memory") + b"\x02" + limits(memory_pages),
        name(HUB) + name("__indirect_function_table") + b"\x01\x70" + limits(table_size),
        name(HUB) + name("__wasm_split_shared0") + b"\x03\x7f\x01",
    ]
    exports = [
        name("memory") + b"\x02\x00",
        name("__indirect_function_table") + b"\x01\x00",
        name("__wasm_split_shared0") + b"\x03\x00",
    ]

    def section(kind, entries):
        body = leb(len(entries)) + b"".join(entries)
        return bytes([kind]) + leb(len(body)) + body

    return b"\x00asm\x01\x00\x00\x00" + section(2, imports) + section(7, exports)


def without_exports(wasm):
    """The module without its export section (the hub's re-exports), imports named back."""
    out = bytearray(wasm[:8])
    at = 8
    while at < len(wasm):
        kind = wasm[at]
        size, body = read_leb(wasm, at + 1)
        if kind != 7:
            out += wasm[at : body + size]
        at = body + size
    old, new = name(HUB), name("__wasm_split")
    return bytes(out).replace(old, new)


def import_limits(wasm):
    """The memory's and the table's initial sizes a chunk imports them with."""
    memory = table = 0
    at = 8
    while at < len(wasm):
        kind = wasm[at]
        size, body = read_leb(wasm, at + 1)
        if kind == 2:
            count, p = read_leb(wasm, body)
            for _ in range(count):
                for _ in range(2):
                    length, p = read_leb(wasm, p)
                    p += length
                what = wasm[p]
                p += 1
                if what == 1:
                    p += 1  # the table's element type
                if what in (1, 2):
                    flags = wasm[p]
                    initial, p = read_leb(wasm, p + 1)
                    if flags & 1:
                        _, p = read_leb(wasm, p)
                    if what == 2:
                        memory = max(memory, initial)
                    else:
                        table = max(table, initial)
                elif what == 3:
                    p += 2
                else:
                    _, p = read_leb(wasm, p)
        at = body + size
    return memory, table


MAIN = "main"

# A split point loaded only after a page's own (the span body on the trace page, the filter
# parser on list pages) counts this much of a page: what it adds to a page matters less.
SECONDARY_WEIGHT = 0.25
# How much more a heavier page counts, and how many rounds of planning weigh it (4 left
# /metrics at 397 KiB in session 15 while lighter pages had room; 8 took it to 393).
HEAVY = float(os.environ.get("SKEIN_MERGE_HEAVY", "8"))
ROUNDS = int(os.environ.get("SKEIN_MERGE_ROUNDS", "3"))


def plan(chunks, sizes, weights):
    """Groups of chunk names, greedily, as [mask, content, names]. `chunks`: name -> the split
    points needing it (a bit mask; `weights[i]` is split point i's). A group led by `MAIN`
    goes into the main module, which every page loads."""
    everyone = (1 << len(weights)) - 1
    groups = [[everyone, 0, [MAIN]]] + [
        [mask, max(sizes[n] - MODULE_COST, 0), [n]] for n, mask in chunks.items()
    ]
    cache = {}

    def weight(mask):
        if mask not in cache:
            cache[mask] = sum(w for i, w in enumerate(weights) if mask >> i & 1)
        return cache[mask]

    while True:
        best = None
        for i, (mi, ci, _) in enumerate(groups):
            for j in range(i + 1, len(groups)):
                mj, cj, _ = groups[j]
                # Pages needing both load one module less; pages needing one load the other.
                gain = (
                    MODULE_COST * weight(mi & mj)
                    - cj * weight(mi & ~mj)
                    - ci * weight(mj & ~mi)
                )
                if gain > 0 and (best is None or gain > best[0]):
                    best = (gain, i, j)
        if best is None:
            return groups
        _, i, j = best
        # The main module stays first (i < j, and it is group 0).
        groups[i] = [groups[i][0] | groups[j][0], groups[i][1] + groups[j][1], groups[i][2] + groups[j][2]]
        del groups[j]


def estimates(groups, base, own):
    """Each split point's download as planned: the main module, its own, its groups."""
    main = base + groups[0][1]
    return [
        main + own[i] + sum(c + MODULE_COST for m, c, _ in groups[1:] if m >> i & 1)
        for i in range(len(own))
    ]


def main():
    pkg, secondary, wasm_merge = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
    features = sys.argv[4:]
    loader_path = os.path.join(pkg, "__wasm_split.js")
    loader = open(loader_path).read()
    blocks = {m.group("name"): m for m in CHUNK_RE.finditer(loader)}
    on_disk = [f for f in os.listdir(pkg) if f.startswith("chunk_") and f.endswith(".wasm")]
    if len(on_disk) != len(blocks):
        sys.exit(
            f"merge-chunks: the loader lists {len(blocks)} of the {len(on_disk)} chunks "
            "(has wasm-split-cli's output changed?)"
        )
    users = sorted({u for m in blocks.values() for u in m.group("users").split(", ")})
    bit = {u: 1 << i for i, u in enumerate(users)}
    chunks, sizes, files = {}, {}, {}
    for n, m in blocks.items():
        chunks[n] = sum(bit[u] for u in m.group("users").split(", "))
        files[n] = os.path.join(pkg, m.group("file"))
        sizes[n] = len(gzip.compress(open(files[n], "rb").read(), 9))
    gz = lambda path: len(gzip.compress(open(path, "rb").read(), 9))
    main_file = os.path.join(pkg, "skein-dashboard_bg.wasm")
    own = [gz(os.path.join(pkg, f"split_{u}.wasm")) for u in users]
    base = [SECONDARY_WEIGHT if u in secondary else 1.0 for u in users]
    # Planned once for the sum over pages, then again with the heavier pages counting more
    # (by their planned size, to the power HEAVY): what a page near the budget loads matters
    # more than what a light one does.
    # Each round's plan can shift code onto another page; the plan kept is the one whose
    # heaviest page (a page, not a part loaded after one) is lightest: the budget is per page.
    weights, best = base, None
    main_gz = gz(main_file)
    for _ in range(ROUNDS):
        planned = plan(chunks, sizes, weights)
        sizes_now = estimates(planned, main_gz, own)
        heaviest = max(sizes_now)
        worst_page = max(e for e, b in zip(sizes_now, base) if b == 1.0)
        if best is None or worst_page < best[0]:
            best = (worst_page, planned)
        weights = [b * (e / heaviest) ** HEAVY for b, e in zip(base, sizes_now)]
    planned = best[1]
    groups = [names for _, _, names in planned]
    if os.environ.get("SKEIN_MERGE_DRY"):
        for u, e in zip(users, estimates(planned, main_gz, own)):
            print(f"{u:20} {e / 1024:7.1f} KiB planned", file=sys.stderr)
        return

    # Each group becomes its first member's file and loader (or goes into the main module).
    lead = {}
    with tempfile.TemporaryDirectory() as tmp:
        for group in groups:
            first = group[0]
            for n in group:
                lead[n] = first
            members = [n for n in group if n != MAIN]
            if len(group) == 1 or not members:
                continue
            merged = os.path.join(tmp, "merged.wasm")
            if first == MAIN:
                # The chunks import what the main module exports under these names.
                args = [wasm_merge, *features, main_file, "__wasm_split"]
            else:
                limits = [import_limits(open(files[n], "rb").read()) for n in group]
                hub = os.path.join(tmp, "hub.wasm")
                with open(hub, "wb") as f:
                    f.write(hub_module(max(m for m, _ in limits), max(t for _, t in limits)))
                args = [wasm_merge, *features, hub, "__wasm_split"]
            for i, n in enumerate(members):
                args += [files[n], f"m{i}"]
            done = subprocess.run(args + ["-o", merged], stderr=subprocess.PIPE, text=True)
            # Without the harmless warning about a name subsection (types) wasm-split writes.
            for line in done.stderr.splitlines():
                if "unknown name subsection" not in line:
                    print(line, file=sys.stderr)
            done.check_returncode()
            if first == MAIN:
                os.replace(merged, main_file)
            else:
                with open(files[first], "wb") as f:
                    f.write(without_exports(open(merged, "rb").read()))
            for n in members:
                if n != first:
                    os.remove(files[n])

    def block(m):
        n = m.group("name")
        if lead[n] != n:
            return ""
        group = [c for c in groups if c[0] == n][0]
        needed = sorted({u for c in group for u in blocks[c].group("users").split(", ")})
        return m.group(0).replace(m.group("users"), ", ".join(needed), 1)

    def deps(m):
        listed = [d.strip() for d in m.group(1).split(",") if d.strip()]
        kept = list(dict.fromkeys(lead.get(d, d) for d in listed if lead.get(d) != MAIN))
        return "\n, [" + ", ".join(kept) + "]"

    loader = CHUNK_RE.sub(block, loader)
    loader = DEPS_RE.sub(deps, loader)
    with open(loader_path, "w") as f:
        f.write(loader)
    into_main = sum(len(g) - 1 for g in groups if g[0] == MAIN)
    print(
        f"merge-chunks: {len(blocks)} chunks into {len(groups) - 1} modules and "
        f"{into_main} into the main module",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
