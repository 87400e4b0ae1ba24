"""The seed's multi-agent run traced with the unmodified LangSmith SDK (@traceable), its two
create_feedback calls, and the SDK's own reads (list_runs, read_run) against Skein.

The collector comes from the standard LANGSMITH_ENDPOINT / LANGSMITH_API_KEY /
LANGSMITH_PROJECT variables (and LANGSMITH_DISABLE_RUN_COMPRESSION when a test sets it).
Prints one JSON line with what happened, for the Rust test to check.

    python langsmith_agents.py seed [--no-autobatch]
    python langsmith_agents.py otel               # LANGSMITH_TRACING_MODE=otel
    python langsmith_agents.py fail               # a run that raises
    python langsmith_agents.py dist-parent        # spawns dist-child with propagation headers
    python langsmith_agents.py dist-child         # reads the headers from SKEIN_LS_HEADERS
"""

import json
import os
import subprocess
import sys
import warnings

import langsmith as ls
from langsmith import Client, traceable
from langsmith.run_helpers import get_current_run_tree

warnings.simplefilter("ignore")  # the SDK's deprecation notices are not under test

METADATA = {
    "env": "production",
    "version": "v2.1.0",
    "feature": "research_assistant",
    "user_tier": "premium",
    "experiment": "improved_prompts_v3",
    "ab_test_variant": "B",
}

run_ids = {}


def remember():
    tree = get_current_run_tree()
    run_ids[tree.name] = str(tree.id)
    return tree


@traceable(name="planning_agent", tags=["agent:planning"])
def planning_agent(task):
    remember()
    return {"plan": ["step1", "step2", "step3"]}


@traceable(run_type="llm", metadata={"ls_provider": "openai", "ls_model_name": "gpt-4o-mini"})
def sub_agent(step, n):
    remember()  # named sub_agent_<n> by the caller's langsmith_extra
    return {
        "choices": [{"message": {"role": "assistant", "content": f"done {step}"}}],
        "usage_metadata": {"input_tokens": 100 * n, "output_tokens": 10 * n, "total_tokens": 110 * n},
    }


@traceable(name="execution_agent", tags=["agent:execution"])
def execution_agent(plan):
    remember()
    results = []
    for n, step in enumerate(plan["plan"], start=1):
        results.append(sub_agent(step, n, langsmith_extra={"name": f"sub_agent_{n}"}))
    return {"results": results}


@traceable(name="synthesis_agent", tags=["agent:synthesis"])
def synthesis_agent(results):
    remember()
    return "final answer"


@traceable(name="main_agent", tags=["agent:main", "prod"])
def main_agent(question):
    remember()
    plan = planning_agent(question)
    results = execution_agent(plan)
    return {"answer": synthesis_agent(results)}


def client_info(client):
    info = client.info
    config = info.batch_ingest_config or {}
    return {
        "version": info.version,
        "use_multipart_endpoint": config.get("use_multipart_endpoint"),
        "zstd_enabled": (info.instance_flags or {}).get("zstd_compression_enabled"),
        # Set when the SDK compresses runs into zstd multipart uploads.
        "compressing": getattr(client, "compressed_traces", None) is not None,
    }


def tree_of(run):
    return {
        "name": run.name,
        "id": str(run.id),
        "run_type": run.run_type,
        "parent_run_id": str(run.parent_run_id) if run.parent_run_id else None,
        "metadata": {k: v for k, v in (run.metadata or {}).items() if k in METADATA},
        "outputs": run.outputs,
        "status": run.status,
        "children": [tree_of(c) for c in sorted(run.child_runs or [], key=lambda r: r.dotted_order)],
    }


def seed(no_autobatch):
    project = os.environ["LANGSMITH_PROJECT"]
    client = Client(auto_batch_tracing=not no_autobatch)
    with ls.tracing_context(client=client, project_name=project, enabled=True):
        result = main_agent(
            "Research solid-state batteries",
            langsmith_extra={"metadata": {**METADATA, "session_id": "thread-ls-1", "user_id": "user_ls"}},
        )
    root = run_ids["main_agent"]
    # The seed's two calls, as it makes them: the run id and nothing else.
    client.create_feedback(root, key="user_satisfaction", score=0.95, comment="User rated 5 stars")
    client.create_feedback(root, key="business_value", score=150.0, comment="Saved 2 hours of research")
    # Feedback with a trace id rides along with the runs (a feedback part in multipart).
    client.create_feedback(
        run_ids["sub_agent_2"], trace_id=root, key="helpfulness", score=1, comment="useful step"
    )
    client.flush()

    # The SDK's own reads.
    roots = list(client.list_runs(project_name=project, is_root=True, filter='eq(name, "main_agent")'))
    everything = list(client.list_runs(project_name=project))
    full = client.read_run(root, load_child_runs=True)
    print(
        json.dumps(
            {
                "trace_id": root,
                "run_ids": run_ids,
                "result": result,
                "info": client_info(client),
                "roots": [str(r.id) for r in roots],
                "run_count": len(everything),
                "tree": tree_of(full),
            }
        )
    )


def otel():
    """The SDK in OTel mode (LANGSMITH_TRACING_MODE=otel): spans go to {endpoint}/otel/v1/traces."""
    project = os.environ["LANGSMITH_PROJECT"]
    client = Client()
    with ls.tracing_context(client=client, project_name=project, enabled=True):
        main_agent(
            "Research solid-state batteries",
            langsmith_extra={"metadata": {**METADATA, "session_id": "thread-otel-1"}},
        )
    client.flush()
    from opentelemetry import trace as otel_trace

    provider = otel_trace.get_tracer_provider()
    if hasattr(provider, "force_flush"):
        provider.force_flush()
    # The SDK reads OTLP-ingested spans back too (with synthetic run ids).
    roots = list(client.list_runs(project_name=project, is_root=True))
    print(json.dumps({"run_ids": run_ids, "roots": [r.name for r in roots]}))


@traceable(name="failing_agent", tags=["fails"])
def failing_agent(question):
    remember()
    raise ValueError("boom in failing_agent")


def fail():
    client = Client()
    with ls.tracing_context(client=client, enabled=True):
        try:
            failing_agent("will this work?")
        except ValueError:
            pass
    client.flush()
    print(json.dumps({"trace_id": run_ids["failing_agent"]}))


@traceable(name="remote_agent", run_type="chain")
def remote_agent(text):
    remember()
    return {"echo": text}


def dist_child():
    headers = json.loads(os.environ["SKEIN_LS_HEADERS"])
    client = Client()
    with ls.tracing_context(client=client, parent=headers, enabled=True):
        remote_agent("hello")
    client.flush()
    print(json.dumps({"run_ids": run_ids}))


@traceable(name="gateway_agent", tags=["dist"])
def gateway_agent():
    tree = remember()
    headers = tree.to_headers()
    child = subprocess.run(
        [sys.executable, __file__, "dist-child"],
        # The child is configured for another project: the parent's baggage must win.
        env={**os.environ, "SKEIN_LS_HEADERS": json.dumps(headers), "LANGSMITH_PROJECT": "elsewhere"},
        capture_output=True,
        text=True,
        check=True,
    )
    return {"headers": headers, "child": json.loads(child.stdout.strip().splitlines()[-1])}


def dist_parent():
    client = Client()
    with ls.tracing_context(client=client, enabled=True):
        out = gateway_agent(langsmith_extra={"metadata": {"env": "production", "ab_test_variant": "B"}})
    client.flush()
    print(
        json.dumps(
            {
                "trace_id": run_ids["gateway_agent"],
                "parent_id": run_ids["gateway_agent"],
                "child_id": out["child"]["run_ids"]["remote_agent"],
                "headers": out["headers"],
            }
        )
    )


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "seed"
    if mode == "seed":
        seed("--no-autobatch" in sys.argv)
    elif mode == "otel":
        otel()
    elif mode == "fail":
        fail()
    elif mode == "dist-parent":
        dist_parent()
    elif mode == "dist-child":
        dist_child()
    else:
        sys.exit(f"unknown mode {mode}")
