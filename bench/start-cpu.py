#!/usr/bin/env python3
"""The trace page's start in main-thread CPU time, not wall time (bench/README, session 17).

    python3 bench/start-cpu.py --collector-bin SKEIN --dist DIST [--spans 100000] [--warm 3]

Starts a collector serving DIST (its data in a temp dir), sends one trace of --spans spans (the
benchmark's fan-out-10 shape, as OTLP JSON), then opens `/traces/{id}` in headless Chromium
(the benchmark's flags) once cold and --warm times warm, each visit traced over the DevTools
protocol. Prints a line a visit: wall time to `skein:trace-painted`, the main thread's CPU to
it (the events' thread time, which a loaded machine does not inflate the way it does wall
time), the lazily compiled wasm functions and their CPU, whether the code cache was used, and
the CPU between the page's marks. `--timeline` also prints each warm visit's main-thread tasks
over 2 ms and its network and wasm events, in wall ms after navigation (what the start waits
for). Needs `websockets` (the repo's .venv has it).
"""

import argparse
import asyncio
import collections
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websockets

CATEGORIES = ",".join([
    "toplevel", "devtools.timeline", "disabled-by-default-devtools.timeline", "v8", "v8.wasm",
    "disabled-by-default-v8.wasm.detailed", "blink.user_timing", "loading",
])
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-gpu-vsync", "--disable-frame-rate-limit", "--window-size=1440,900",
]
NAMES = [("research_run", "AGENT"), ("sub_agent", "AGENT"), ("plan_step", "CHAIN"),
         ("chat gpt-4o-mini", "LLM"), ("search_documents", "TOOL"), ("fetch_page", "RETRIEVER")]


def send_trace(otlp, spans):
    """The benchmark's fan-out-10 trace (bench/src/queries/big_trace.rs), 10,000 a request."""
    seed = time.time_ns()
    trace_id = "%016x%016x" % (seed & (2**64 - 1), 0x05EEDB16)
    span_id = lambda i: "%016x" % (((i + 1) | (seed << 32)) & (2**64 - 1))
    kv = lambda k, v: {"key": k, "value": {"stringValue": v}}
    window = [(seed - 3_600_000_000_000, seed - 3_000_000_000_000)] * spans
    depth = [0] * spans
    batch = []
    for i in range(spans):
        parent = (i - 1) // 10 if i else None
        if parent is not None:
            start, end = window[parent]
            slot, k = (end - start) // 10, (i - 1) % 10
            window[i] = (start + k * slot, start + (k + 1) * slot - slot // 10)
            depth[i] = depth[parent] + 1
        name, kind = NAMES[min(depth[i], len(NAMES) - 1)]
        span = {"traceId": trace_id, "spanId": span_id(i), "name": name, "kind": 1,
                "startTimeUnixNano": str(window[i][0]), "endTimeUnixNano": str(max(window[i])),
                "attributes": [kv("openinference.span.kind", kind), kv("env", "production")]}
        if parent is not None:
            span["parentSpanId"] = span_id(parent)
        batch.append(span)
        if len(batch) == 10_000 or i + 1 == spans:
            body = {"resourceSpans": [{"resource": {"attributes": [kv("service.name", "deep-research")]},
                                       "scopeSpans": [{"spans": batch}]}]}
            request = urllib.request.Request(otlp, data=json.dumps(body).encode(),
                                             headers={"content-type": "application/json"})
            urllib.request.urlopen(request).read()
            batch = []
    return trace_id


async def visits(url, warm, pause, port=9333):
    """Traces a cold visit and `warm` warm ones; returns each visit's trace events."""
    profile = tempfile.mkdtemp(prefix="skein-start-cpu-")
    chromium = subprocess.Popen(["chromium", *CHROMIUM_FLAGS, f"--remote-debugging-port={port}",
                                 f"--user-data-dir={profile}", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                tabs = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
                break
            except OSError:
                time.sleep(0.1)
        page = next(t for t in tabs if t["type"] == "page")["webSocketDebuggerUrl"]
        async with websockets.connect(page, max_size=None) as ws:
            pending, events, ids = {}, [], iter(range(1, 1 << 30))

            async def read():
                async for message in ws:
                    m = json.loads(message)
                    if m.get("id") in pending:
                        pending.pop(m["id"]).set_result(m.get("result"))
                    elif m.get("method") == "Tracing.dataCollected":
                        events.extend(m["params"]["value"])
                    elif m.get("method") == "Tracing.tracingComplete":
                        pending.pop("done").set_result(None)

            reader = asyncio.create_task(read())

            async def call(method, **params):
                i = next(ids)
                pending[i] = asyncio.get_running_loop().create_future()
                await ws.send(json.dumps({"id": i, "method": method, "params": params}))
                return await pending[i]

            out = []
            for visit in range(warm + 1):
                await call("Page.navigate", url="about:blank")
                await asyncio.sleep(0.5)
                events.clear()
                await call("Tracing.start", categories=CATEGORIES, transferMode="ReportEvents")
                await call("Page.navigate", url=url)
                for _ in range(300):
                    await asyncio.sleep(0.1)
                    r = await call("Runtime.evaluate", expression=(
                        "performance.getEntriesByName('skein:trace-painted').length"))
                    if r["result"].get("value"):
                        break
                # Time for the code cache to be written before the next visit (V8 writes it 2 s
                # after the last tier-up: `--pause 2.5` gives a user's warm visit).
                await asyncio.sleep(pause)
                pending["done"] = asyncio.get_running_loop().create_future()
                await call("Tracing.end")
                await pending["done"]
                out.append(("cold" if visit == 0 else f"warm {visit}", list(events)))
            reader.cancel()
            return out
    finally:
        chromium.terminate()
        chromium.wait()
        shutil.rmtree(profile, ignore_errors=True)


def summary(events):
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e.get("name") == "thread_name"}
    counts = collections.Counter((e["pid"], e["tid"]) for e in events
                                 if threads.get((e["pid"], e["tid"])) == "CrRendererMain")
    main = counts.most_common(1)[0][0]
    mine = [e for e in events if (e["pid"], e["tid"]) == main]
    # The trace page's own navigation (a cold profile also starts with about:blank's).
    t0 = max(e["ts"] for e in mine if e.get("name") == "navigationStart"
             and "/traces/" in e.get("args", {}).get("data", {}).get("documentLoaderURL", ""))
    marks = {e["name"].removeprefix("skein:trace-"): e for e in mine
             if e.get("name", "").startswith("skein:trace-") and e.get("ph") in ("R", "I", "n")}
    if "painted" not in marks:
        return "not painted"
    painted = marks["painted"]["ts"]
    spans = [e for e in mine if e.get("ph") == "X" and t0 <= e["ts"] <= painted]
    cpu = sum(e.get("tdur", 0) for e in spans if e["name"] == "RunTask") / 1000
    lazy = [e for e in spans if e["name"] == "wasm.CompileLazy"]
    cached = sum(1 for e in events if e.get("name") == "wasm.Deserialize")

    def between(a, b):
        if a not in marks or b not in marks:
            return float("nan")
        return (marks[b].get("tts", 0) - marks[a].get("tts", 0)) / 1000

    return ("wall %5.0f ms, main-thread CPU %4.0f ms; lazy compile %4d functions, %4.1f ms CPU; "
            "code cache %s; CPU requested→fetched %5.1f, fetched→built %4.1f, built→painted %5.1f"
            % ((painted - t0) / 1000, cpu, len(lazy), sum(e.get("tdur", 0) for e in lazy) / 1000,
               "used" if cached else "not used", between("requested", "fetched"),
               between("fetched", "built"), between("built", "painted")))


NOTABLE = ("ParseHTML", "EvaluateScript", "v8.compileModule", "v8.evaluateModule", "FunctionCall",
           "TimerFire", "FireAnimationFrame", "UpdateLayoutTree", "Layout", "Paint", "PrePaint",
           "Commit", "wasm.CompileLazy", "RunMicrotasks", "v8.run", "HitTest", "ResizeObserver")


def timeline(events):
    """Lines for the main thread's tasks over 2 ms (wall, CPU, what they held), the resources'
    responses and ends, and wasm events off the main thread, in ms after navigation."""
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e.get("name") == "thread_name"}
    counts = collections.Counter((e["pid"], e["tid"]) for e in events
                                 if threads.get((e["pid"], e["tid"])) == "CrRendererMain")
    main = counts.most_common(1)[0][0]
    mine = [e for e in events if (e["pid"], e["tid"]) == main]
    t0 = max(e["ts"] for e in mine if e.get("name") == "navigationStart"
             and "/traces/" in e.get("args", {}).get("data", {}).get("documentLoaderURL", ""))
    ms = lambda ts: (ts - t0) / 1000
    urls, lines = {}, []
    for e in events:
        data = e.get("args", {}).get("data", {}) or {}
        if e.get("name") == "ResourceSendRequest":
            urls[data.get("requestId")] = data.get("url", "").rsplit("/", 1)[-1][:40]
    for e in events:
        name, data = e.get("name", ""), (e.get("args", {}).get("data", {}) or {})
        if e.get("ts", 0) < t0:
            continue
        if name in ("ResourceSendRequest", "ResourceReceiveResponse", "ResourceFinish"):
            lines.append((ms(e["ts"]), f"  net {name[8:]:<15} {urls.get(data.get('requestId'), '?')}"))
        # Compiles off the main thread, and any cache event (the wasm code cache's reads and
        # writes among them).
        elif ((name.startswith(("wasm.", "v8.wasm.")) and name != "wasm.CompileLazy"
               and (e["pid"], e["tid"]) != main) or "ache" in name):
            lines.append((ms(e["ts"]), f"  {threads.get((e['pid'], e['tid']), '?')[:16]:<16} {name} "
                                       f"{e.get('dur', 0) / 1000:.1f} ms"))
        elif (e["pid"], e["tid"]) == main and name.startswith("skein:"):
            lines.append((ms(e["ts"]), f"  MARK {name}"))
    tasks = [e for e in mine if e.get("name") == "RunTask" and e.get("ph") == "X" and e["ts"] >= t0]
    inner = [e for e in mine if e.get("ph") == "X" and e.get("name") in NOTABLE]
    for t in tasks:
        if t.get("dur", 0) < 2000:
            continue
        held = collections.Counter()
        for e in inner:
            if t["ts"] <= e["ts"] < t["ts"] + t["dur"]:
                held[e["name"]] += e.get("tdur", e.get("dur", 0))
        what = ", ".join(f"{n} {d / 1000:.1f}" for n, d in held.most_common(5))
        lines.append((ms(t["ts"]), f"TASK {t['dur'] / 1000:6.1f} ms wall {t.get('tdur', 0) / 1000:6.1f} "
                                   f"CPU: {what}"))
    return "\n".join(f"{at:7.1f} {text}" for at, text in sorted(lines))


def main():
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--collector-bin", required=True)
    args.add_argument("--dist", required=True)
    args.add_argument("--spans", type=int, default=100_000)
    args.add_argument("--warm", type=int, default=3)
    args.add_argument("--timeline", action="store_true")
    args.add_argument("--pause", type=float, default=0.8, help="seconds after a visit's paint")
    a = args.parse_args()
    data = tempfile.mkdtemp(prefix="skein-start-cpu-data-")
    collector = subprocess.Popen(
        [a.collector_bin, "serve", "--http-addr", "127.0.0.1:0", "--otlp-addr", "127.0.0.1:0",
         "--otlp-grpc-addr", "off", "--data-dir", data, "--dist", a.dist],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "SKEIN_LOG": "warn"})
    try:
        urls = [w for w in collector.stdout.readline().split() if w.startswith("http://")]
        app, otlp = urls[0].removesuffix("/traces"), urls[1].rstrip(")")
        trace_id = send_trace(otlp, a.spans)
        for label, events in asyncio.run(visits(f"{app}/traces/{trace_id}", a.warm, a.pause)):
            print(f"{a.spans} spans, {label}: {summary(events)}")
            if a.timeline and label != "cold":
                print(timeline(events))
    finally:
        collector.terminate()
        collector.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
