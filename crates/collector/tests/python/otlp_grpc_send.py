"""Sends one small agent trace with the OTel Python SDK's OTLP/gRPC exporter, configured the
way a user configures it: OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS and
OTEL_EXPORTER_OTLP_COMPRESSION in the environment.

    python otlp_grpc_send.py SERVICE

Prints the trace id, then the exporter's result (SUCCESS or FAILURE); exits 1 unless every
export succeeded.
"""

import sys

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult


class RecordingExporter(OTLPSpanExporter):
    """The real exporter, remembering what each export returned."""

    results = []

    def export(self, spans):
        result = super().export(spans)
        self.results.append(result)
        return result


service = sys.argv[1]
exporter = RecordingExporter(timeout=10)
provider = TracerProvider(resource=Resource.create({"service.name": service}))
provider.add_span_processor(BatchSpanProcessor(exporter))
tracer = provider.get_tracer("skein-grpc-test")

with tracer.start_as_current_span("plan_trip") as root:
    root.set_attribute("session.id", "grpc-session-1")
    with tracer.start_as_current_span("chat gpt-4o-mini") as llm:
        llm.set_attribute("gen_ai.operation.name", "chat")
        llm.set_attribute("gen_ai.request.model", "gpt-4o-mini")
        llm.set_attribute("gen_ai.usage.input_tokens", 12)
        llm.set_attribute("gen_ai.usage.output_tokens", 5)
    with tracer.start_as_current_span("book_hotel"):
        pass

provider.shutdown()
print(format(root.get_span_context().trace_id, "032x"))
ok = bool(exporter.results) and all(r == SpanExportResult.SUCCESS for r in exporter.results)
print("SUCCESS" if ok else "FAILURE")
sys.exit(0 if ok else 1)
