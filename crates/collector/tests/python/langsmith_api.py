"""The LangSmith SDK's reads and edits beyond tracing, against Skein, with the unmodified Client:
create_project, feedback listed by run / read / updated / deleted, read_run's token totals and
feedback stats, the v2 `client.runs` (query, retrieve, get_url), get_run_url and Run.url
followed over HTTP, and list_runs on a project that does not exist.

Configured like langsmith_agents.py (LANGSMITH_ENDPOINT / LANGSMITH_API_KEY / LANGSMITH_PROJECT),
plus SKEIN_WEB_URL, Skein's own address, given to the Client as `web_url` (the SDK drops the
port of a local endpoint when it builds links). Prints one JSON line for the Rust test; every
warning the SDK logged or raised is in it ("warnings").

    python langsmith_api.py
"""

import asyncio
import datetime
import json
import logging
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import langsmith as ls  # noqa: E402
import requests  # noqa: E402
from langsmith import Client, traceable  # noqa: E402
from langsmith.run_helpers import get_current_run_tree  # noqa: E402
from langsmith.utils import LangSmithNotFoundError  # noqa: E402

from langsmith_agents import METADATA, main_agent, run_ids  # noqa: E402


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@traceable(name="billing_agent", metadata={"service.name": "billing"})
def billing_agent(amount):
    run_ids["billing_agent"] = str(get_current_run_tree().id)
    return {"charged": amount}


def stats_of(run):
    return {k: {"n": v.get("n"), "avg": v.get("avg")} for k, v in (run.feedback_stats or {}).items()}


def follow(url):
    """GET the URL as a browser would; where it ended up and the redirects on the way."""
    response = requests.get(url, allow_redirects=True, timeout=30)
    return {
        "final": response.url,
        "redirects": [r.status_code for r in response.history],
        "status": response.status_code,
    }


async def v2_calls(client, project_id, root, llm_child):
    """The v2 runs resource (async in the SDK)."""
    selects = ["ID", "NAME", "RUN_TYPE", "STATUS", "TOTAL_TOKENS", "FEEDBACK_STATS", "TRACE_ID", "PARENT_RUN_IDS"]
    roots = [r async for r in client.runs.query(project_ids=[project_id], is_root=True, selects=selects)]
    in_trace = [r async for r in client.runs.query(project_ids=[project_id], trace_id=root, selects=selects)]
    llms = [r async for r in client.runs.query(project_ids=[project_id], trace_id=root, run_type="LLM", selects=["NAME"])]
    paged = [r async for r in client.runs.query(project_ids=[project_id], trace_id=root, page_size=2, selects=["ID"])]
    by_id = [r async for r in client.runs.query(project_ids=[project_id], ids=[llm_child], selects=["NAME", "TOTAL_TOKENS"])]
    one = await client.runs.retrieve(root, project_id=project_id, selects=["NAME", "TOTAL_TOKENS", "FEEDBACK_STATS"])
    url = await client.runs.get_url(llm_child, project_id=project_id, trace_id=root)
    return {
        "roots": sorted(r.name for r in roots),
        "root_total_tokens": {r.name: r.total_tokens for r in roots},
        "root_status": {r.name: r.status for r in roots},
        "in_trace": sorted(r.name for r in in_trace),
        "llms": sorted(r.name for r in llms),
        "paged": len({r.id for r in paged}),
        "by_id": [(r.name, r.total_tokens) for r in by_id],
        "by_id_has_no_unselected": all(r.run_type is None for r in by_id),
        "retrieved": {
            "name": one.name,
            "total_tokens": one.total_tokens,
            "feedback": {k: v.n for k, v in (one.feedback_stats or {}).items()},
        },
        "url": url.url,
    }


def main():
    project = os.environ["LANGSMITH_PROJECT"]
    web_url = os.environ["SKEIN_WEB_URL"]
    collected = Collect()
    logging.getLogger("langsmith").addHandler(collected)
    quiet_sockets = {"action": "ignore", "category": ResourceWarning}  # asyncio's, at exit
    warnings.simplefilter("always")
    warnings.filterwarnings(**quiet_sockets)
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always")
        warnings.filterwarnings(**quiet_sockets)
        client = Client(web_url=web_url)

        before = datetime.datetime.now(datetime.timezone.utc)
        created = client.create_project(project)
        created_start = created.start_time

        with ls.tracing_context(client=client, project_name=project, enabled=True):
            main_agent(
                "Research solid-state batteries",
                langsmith_extra={"metadata": {**METADATA, "session_id": "thread-api-1"}},
            )
            billing_agent(12)
        root = run_ids["main_agent"]
        sub2 = run_ids["sub_agent_2"]
        client.create_feedback(root, key="user_satisfaction", score=0.95, comment="User rated 5 stars")
        client.create_feedback(root, key="business_value", score=150.0, comment="Saved 2 hours")
        client.create_feedback(sub2, trace_id=root, key="helpfulness", score=1, comment="useful step")
        client.flush()

        on_root = list(client.list_feedback(run_ids=[root]))
        on_both = list(client.list_feedback(run_ids=[root, sub2]))
        helpful = list(client.list_feedback(run_ids=[root, sub2], feedback_key=["helpfulness"]))
        satisfaction = next(f for f in on_root if f.key == "user_satisfaction")
        read = client.read_feedback(satisfaction.id)
        client.update_feedback(satisfaction.id, score=0.5, comment=None)
        updated = client.read_feedback(satisfaction.id)
        business = next(f for f in on_root if f.key == "business_value")
        client.delete_feedback(business.id)
        try:
            client.read_feedback(business.id)
            deleted_read = "found"
        except LangSmithNotFoundError:
            deleted_read = "not found"
        after_delete = sorted(f.key for f in client.list_feedback(run_ids=[root]))

        by_source = {
            source: sorted(f.key for f in client.list_feedback(run_ids=[root, sub2], feedback_source_type=[source]))
            for source in ["api", "model"]
        }
        root_run = client.read_run(root)
        sub2_run = client.read_run(sub2)
        execution = client.read_run(run_ids["execution_agent"])
        project_id = str(root_run.session_id)

        by_project = sorted(f.key for f in client.list_feedback(session=[project_id]))
        v2 = asyncio.run(v2_calls(client, project_id, root, sub2))

        run_url = client.get_run_url(run=root_run)
        try:
            list(client.list_runs(project_name=f"{project}-that-does-not-exist"))
            unknown_project = "listed"
        except LangSmithNotFoundError:
            unknown_project = "not found"
        # The name create_project registered is found before any run went to it.
        empty = f"{project}-empty"
        client.create_project(empty)
        empty_runs = list(client.list_runs(project_name=empty))

    messages = collected.messages + [str(w.message) for w in raised]
    print(
        json.dumps(
            {
                "trace_id": root,
                "run_ids": run_ids,
                "project_id": project_id,
                "version": client.info.version,
                "created_start_offset_s": (created_start - before).total_seconds(),
                "feedback": {
                    "on_root": sorted(f.key for f in on_root),
                    "on_root_run_ids": sorted({str(f.run_id) for f in on_root}),
                    "on_both": sorted(f.key for f in on_both),
                    "helpful": [(f.key, str(f.run_id), f.score) for f in helpful],
                    "read": {"key": read.key, "score": read.score, "comment": read.comment, "run_id": str(read.run_id)},
                    "updated": {"score": updated.score, "comment": updated.comment},
                    "deleted_read": deleted_read,
                    "after_delete": after_delete,
                    "by_source": by_source,
                    "by_project": by_project,
                },
                "read_run": {
                    "root_total_tokens": root_run.total_tokens,
                    "root_stats": stats_of(root_run),
                    "sub2_total_tokens": sub2_run.total_tokens,
                    "sub2_stats": stats_of(sub2_run),
                    "execution_total_tokens": execution.total_tokens,
                    "root_url": root_run.url,
                },
                "v2": v2,
                "get_run_url": run_url,
                "followed": {
                    "get_run_url": follow(run_url),
                    "run_url": follow(root_run.url),
                    "v2_url": follow(v2["url"]),
                    "project_url": follow(created.url),
                },
                "unknown_project": unknown_project,
                "empty_project_runs": len(empty_runs),
                "warnings": messages,
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main()
