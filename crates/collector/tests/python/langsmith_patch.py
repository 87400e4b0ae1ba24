"""A run created, then finished later, with the LangSmith SDK's unmodified Client: create_run,
a pause (argv[1] seconds), then update_run with its outputs, end time and an error, each
flushed to the collector. Configured like langsmith_agents.py (LANGSMITH_ENDPOINT /
LANGSMITH_API_KEY / LANGSMITH_PROJECT). Prints one JSON line: the run's id.

    python langsmith_patch.py 1.5
"""

import datetime
import json
import sys
import time
import uuid

from langsmith import Client


def main():
    pause = float(sys.argv[1]) if len(sys.argv) > 1 else 1.5
    client = Client()
    run_id = uuid.uuid4()
    start = datetime.datetime.now(datetime.timezone.utc)
    client.create_run(
        name="slow_lookup",
        inputs={"question": "where is my refund?"},
        run_type="tool",
        id=run_id,
        start_time=start,
    )
    client.flush()
    time.sleep(pause)
    client.update_run(
        run_id,
        outputs={"answer": "on its way"},
        end_time=start + datetime.timedelta(seconds=2),
        error="lookup timed out",
    )
    client.flush()
    print(json.dumps({"run_id": str(run_id)}))


if __name__ == "__main__":
    main()
