"""The LangSmith SDK's list_runs(filter=..., trace_filter=..., tree_filter=...) against Skein,
with the unmodified Client. Two traces are sent with @traceable:

- variant A: root `filter_root` (metadata variant=A) -> llm `chat_model`, tool `lookup_tool`
  (tags ["beta"]);
- variant B: root `filter_root` (metadata variant=B) -> llm `chat_model`, chain `writer_node`
  -> tool `deep_tool` (both with the input "Please REFUND order b").

Then list_runs is asked what LangSmith's semantics answer: `filter` on the run itself,
`trace_filter` on its trace's root run, `tree_filter` on any run of its trace. Prints one JSON
line for the Rust test (crates/collector/tests/langsmith/reads.rs).
"""

import json
import os
import time

from langsmith import Client, traceable
from langsmith.run_helpers import get_current_run_tree

roots = {}


@traceable(name="chat_model", run_type="llm")
def chat_model(prompt):
    return {"content": f"echo {prompt}"}


@traceable(name="lookup_tool", run_type="tool", tags=["beta"])
def lookup_tool(q):
    return {"found": q}


@traceable(name="deep_tool", run_type="tool")
def deep_tool(q):
    return {"deep": q}


@traceable(name="writer_node", run_type="chain")
def writer_node(q):
    return deep_tool(q)


@traceable(name="filter_root", run_type="chain")
def filter_root(variant):
    roots[variant] = str(get_current_run_tree().trace_id)
    chat_model(f"hello {variant}")
    if variant == "A":
        lookup_tool("a")
    else:
        writer_node("Please REFUND order b")
    return {"done": variant}


def summary(runs):
    return sorted(
        [{"name": r.name, "run_type": r.run_type, "trace": str(r.trace_id)} for r in runs],
        key=lambda r: (r["name"], r["trace"]),
    )


def main():
    project = os.environ["LANGSMITH_PROJECT"]
    client = Client()
    filter_root("A", langsmith_extra={"metadata": {"variant": "A"}})
    filter_root("B", langsmith_extra={"metadata": {"variant": "B"}})
    client.flush()
    from langsmith import run_trees

    run_trees.get_cached_client().flush()

    def runs(**kwargs):
        return summary(client.list_runs(project_name=project, **kwargs))

    deadline = time.time() + 30
    while len(runs()) < 7 and time.time() < deadline:
        time.sleep(0.2)

    out = {
        "roots": roots,
        "all": len(runs()),
        "llm": runs(filter='eq(run_type, "llm")'),
        "llm_in_b": runs(
            filter='eq(run_type, "llm")',
            trace_filter='and(eq(metadata_key, "variant"), eq(metadata_value, "B"))',
        ),
        "roots_with_deep_tool": runs(is_root=True, tree_filter='eq(name, "deep_tool")'),
        "beta": runs(filter='has(tags, "beta")'),
        "not_llm_or_root": runs(filter='and(neq(run_type, "llm"), eq(is_root, false))'),
        "trace_a_by_id": runs(filter=f'eq(trace_id, "{roots["A"]}")'),
        "search": runs(filter='search("refund")'),
        "search_tools": runs(filter='and(search("rEfUnD order"), eq(run_type, "tool"))'),
        "roots_searched": runs(is_root=True, tree_filter='search("refund")'),
        "search_nothing": runs(filter='search("no such words")'),
    }
    try:
        list(client.list_runs(project_name=project, filter='eq(latncy, "2s")'))
        out["bad_filter"] = "accepted"
    except Exception as e:  # noqa: BLE001 - the SDK raises its own HTTP error types
        out["bad_filter"] = str(e)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
