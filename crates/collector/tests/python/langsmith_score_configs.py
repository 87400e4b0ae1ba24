"""The LangSmith SDK's feedback against a project with score configs: the unmodified Client's
create_feedback (by POST /feedback, and in a multipart upload when given a trace id) and
update_feedback, with scores that fit the project's configs and scores that
do not. Configured like langsmith_agents.py (LANGSMITH_ENDPOINT / LANGSMITH_API_KEY /
LANGSMITH_PROJECT). Prints one JSON line for the Rust test: each call's outcome, the error's
text where the SDK raised one.

    python langsmith_score_configs.py
"""

import json
import os
import uuid

import langsmith as ls
from langsmith import Client, traceable
from langsmith.run_helpers import get_current_run_tree

run_ids = {}


@traceable(name="answer_question")
def answer_question(question):
    run_ids["root"] = str(get_current_run_tree().id)
    return {"answer": f"An answer to {question}"}


def attempt(call):
    """The call's result as {"ok": ...} or the SDK's error as {"error": type, "message": text}."""
    try:
        result = call()
        return {"ok": True, "id": str(getattr(result, "id", "")) or None}
    except Exception as e:  # noqa: BLE001 - the test wants to see whatever the SDK raised
        return {"ok": False, "error": type(e).__name__, "message": str(e)}


def main():
    project = os.environ["LANGSMITH_PROJECT"]
    client = Client()
    with ls.tracing_context(client=client, project_name=project, enabled=True):
        answer_question("What is a score config?")
    client.flush()
    root = run_ids["root"]
    feedback_id = uuid.uuid4()
    results = {
        "run_id": root,
        # Out of the numeric range 1..5.
        "bad_numeric": attempt(
            lambda: client.create_feedback(root, key="user_satisfaction", score=7)
        ),
        "good_numeric": attempt(
            lambda: client.create_feedback(
                root, key="user_satisfaction", score=4, feedback_id=feedback_id
            )
        ),
        # A category named by its label: stored with the category's score.
        "good_label": attempt(
            lambda: client.create_feedback(root, key="correctness", value="partly")
        ),
        "bad_label": attempt(
            lambda: client.create_feedback(root, key="correctness", value="nearly")
        ),
        "unconfigured": attempt(
            lambda: client.create_feedback(root, key="free_form", score=0.3)
        ),
        "bad_update": attempt(lambda: client.update_feedback(feedback_id, score=2.5)),
        "good_update": attempt(lambda: client.update_feedback(feedback_id, score=5)),
        # With a trace id the SDK sends feedback in the background, in a multipart upload:
        # nothing raises here, and the refused record must not be stored all the same.
        "background_bad": attempt(
            lambda: client.create_feedback(root, trace_id=root, key="user_satisfaction", score=0)
        ),
    }
    client.flush()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
