#!/usr/bin/env python3
"""Lets the opened page's wasm load beside the main module's (scripts/build-wasm.sh).

Without this, a page's code waits for the whole start-up: index.html fetches and compiles the
main module, the app starts, the router matches the URL, and only then does the loader
`__wasm_split.js` fetch and compile the page's module and chunks. Here index.html starts
compiling them at once (`WebAssembly.compileStreaming`, from the table this script writes into
it: a route's path pattern and the files its page needs, read from src/app.rs's routes and
the loader), and the loader takes a module compiled that way instead of fetching it again.

Usage: early-pages.py PKG_DIR APP_RS INDEX_HTML
"""

import json
import re
import sys

# `lazy_page!(TracesRoute, traces_page, ...)`: a route and its split point.
LAZY_RE = re.compile(r"lazy_page!\(\s*(\w+),\s*(\w+),")
# `<Route path=path!("/traces/:trace_id") view={Lazy::<TraceRoute>::new()}/>`
ROUTE_RE = re.compile(r'<Route path=path!\("([^"]*)"\) view=\{Lazy::<(\w+)>::new\(\)\}/>')
# `/` redirects to the trace list (app.rs's RootRedirect).
ROOT_PAGE = "traces_page"

FETCH_RE = re.compile(
    r'    const src = fetch\(new URL\("\./(?P<file>[\w.]+\.wasm)", import\.meta\.url\)\);\n'
)
CHUNK_RE = re.compile(r'const (__chunk_\d+) = makeLoad\(\(\) => \{\n    const src = fetch\(new URL\("\./(chunk_\d+\.wasm)"')
SPLIT_RE = re.compile(
    r'export const __wasm_split_load_(\w+) = wrapAsyncCb\(makeLoad\(\(\) => \{\n'
    r'    const src = fetch\(new URL\("\./(split_\w+\.wasm)".*?\n\}\n, \[([^\]]*)\]\)\);',
    re.S,
)

EARLY = '''
// A module index.html started compiling for the opened page (scripts/early-pages.py), once.
function early(file) {
    const compiled = globalThis.__skeinEarly && globalThis.__skeinEarly[file];
    if (compiled) delete globalThis.__skeinEarly[file];
    return compiled;
}
'''


def pattern(path):
    """A route's path as an anchored regular expression (`:id` is one segment)."""
    parts = [r"[^/]+" if p.startswith(":") else re.escape(p) for p in path.strip("/").split("/")]
    return "^/" + "/".join(parts) + "/?$" if parts != [""] else "^/?$"


def main():
    pkg, app_rs, index_html = sys.argv[1:4]
    loader_path = f"{pkg}/__wasm_split.js"
    loader = open(loader_path).read()
    chunk_files = dict(CHUNK_RE.findall(loader))
    files = {}
    for split, own, deps in SPLIT_RE.findall(loader):
        names = [d.strip() for d in deps.split(",") if d.strip()]
        files[split] = [own] + [chunk_files[d] for d in names]
    app = open(app_rs).read()
    split_of = dict(LAZY_RE.findall(app))
    routes = [(pattern(path), split_of[route]) for path, route in ROUTE_RE.findall(app)]
    routes.append((pattern("/"), ROOT_PAGE))
    missing = sorted({s for _, s in routes} - files.keys())
    if missing or not routes:
        sys.exit(f"early-pages: no loader entry for {missing} (have app.rs's routes changed?)")
    table = [[p, files[s]] for p, s in routes]

    def early_first(m):
        file = m.group("file")
        return (
            f'    const compiled = early("{file}");\n'
            "    if (compiled) return async (imports) => "
            "({ instance: await WebAssembly.instantiate(await compiled, imports) });\n" + m.group(0)
        )

    loader, count = FETCH_RE.subn(early_first, loader)
    if count != len(chunk_files) + len(files):
        sys.exit(f"early-pages: {count} fetches in the loader, expected {len(chunk_files) + len(files)}")
    head, _, rest = loader.partition("\n")
    with open(loader_path, "w") as f:
        f.write(head + "\n" + EARLY + rest)
    index = open(index_html).read()
    if "__SKEIN_PAGE_MODULES__" not in index:
        sys.exit("early-pages: index.html has no __SKEIN_PAGE_MODULES__")
    with open(index_html, "w") as f:
        f.write(index.replace("__SKEIN_PAGE_MODULES__", json.dumps(table, separators=(",", ":"))))


if __name__ == "__main__":
    main()
