"""The seed's multi-agent run, instrumented with the unmodified OpenTelemetry Python SDK and
exported with opentelemetry-exporter-otlp-proto-http. The endpoint and compression come from
the standard OTEL_EXPORTER_OTLP_* variables. Prints the trace id as JSON."""

import json
import sys

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

session_id = sys.argv[1] if len(sys.argv) > 1 else "session-py-1"

provider = TracerProvider(resource=Resource.create({"service.name": "seed-agents-py"}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
tracer = provider.get_tracer("seed.tutorial")

metadata = {
    "env": "production",
    "version": "v2.1.0",
    "feature": "research_assistant",
    "user_tier": "premium",
    "experiment": "improved_prompts_v3",
    "ab_test_variant": "B",
}
common = {**metadata, "session.id": session_id, "user.id": "user_py", "request_sequence": 1}


def agent(name, **extra):
    return tracer.start_as_current_span(
        name, attributes={**common, "openinference.span.kind": "AGENT", **extra}
    )


with agent("main_agent", **{"input.value": "Research solid-state batteries"}) as main:
    with agent("planning_agent"):
        pass
    with agent("execution_agent"):
        for i in (1, 2, 3):
            with agent(
                f"sub_agent_{i}",
                **{
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.usage.input_tokens": 100 * i,
                    "gen_ai.usage.output_tokens": 10 * i,
                },
            ):
                pass
    with agent("synthesis_agent", **{"output.value": "final answer"}):
        pass
    trace_id = format(main.get_span_context().trace_id, "032x")

provider.shutdown()  # flushes the batch: the export has been answered when this returns
print(json.dumps({"trace_id": trace_id}))
