// Sends one small trace with @opentelemetry/exporter-trace-otlp-grpc, as a Node user sets it up.
//
//   node send_grpc.js URL SERVICE [KEY]
//
// URL is the collector's OTLP/gRPC address (http://127.0.0.1:4317); KEY, when given, goes in
// `authorization: Bearer` metadata. Sends gzip-compressed. Prints the trace id, then SUCCESS or
// FAILURE (the exporter's result); exits 1 unless every export succeeded.
'use strict';

const { Metadata } = require('@grpc/grpc-js');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BasicTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const api = require('@opentelemetry/api');

async function main() {
  const [url, service, key] = process.argv.slice(2);
  const metadata = new Metadata();
  if (key) metadata.set('authorization', `Bearer ${key}`);
  const exporter = new OTLPTraceExporter({ url, metadata, compression: 'gzip' });
  const results = [];
  const recording = {
    export(spans, done) {
      exporter.export(spans, (result) => {
        results.push(result);
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush(),
  };
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(recording)],
  });
  const tracer = provider.getTracer('skein-grpc-test');
  const root = tracer.startSpan('route_ticket');
  const ctx = api.trace.setSpan(api.context.active(), root);
  const tool = tracer.startSpan('lookup_customer', { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup_customer' } }, ctx);
  tool.end();
  root.end();
  await provider.forceFlush();
  await provider.shutdown();
  console.log(root.spanContext().traceId);
  const ok = results.length > 0 && results.every((r) => r.code === 0);
  if (!ok) console.error(JSON.stringify(results.map((r) => ({ code: r.code, error: String(r.error) }))));
  console.log(ok ? 'SUCCESS' : 'FAILURE');
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
