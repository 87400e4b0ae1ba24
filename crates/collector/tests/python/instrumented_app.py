"""A tiny program as a user writes it for `opentelemetry-instrument`: it uses only the OTel API;
the distro sets up the SDK and its default exporter (OTLP/gRPC to localhost:4317, unless
OTEL_EXPORTER_OTLP_ENDPOINT names another address). Prints the trace id."""

from opentelemetry import trace

tracer = trace.get_tracer("instrumented-app")
with tracer.start_as_current_span("handle_request") as span:
    span.set_attribute("app.request", "hello")
    with tracer.start_as_current_span("answer"):
        pass
print(format(span.get_span_context().trace_id, "032x"))
