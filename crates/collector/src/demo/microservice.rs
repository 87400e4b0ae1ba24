//! The request across microservices, a client and a server span for every hop.

use super::spans::*;
use super::*;

/// api-gateway → auth-service, agent-service → model-service, tool-service → search-service and
/// cache-service, then analytics-service; client and server span for every hop.
pub(super) fn microservice_trace(
    rng: &mut Rng,
    ctx: &Context,
    start: i64,
) -> (DemoTrace, [u8; 8], bool) {
    let mut b = SpanBuilder {
        ctx,
        spans: Vec::new(),
    };
    let http = |method: &str, route: &str, status: i64| {
        vec![
            kv("http.request.method", method),
            kv("http.route", route),
            kv_int("http.response.status_code", status),
        ]
    };
    let gateway = b.add(
        rng,
        "api-gateway",
        "POST /v1/chat",
        SpanKind::Server,
        None,
        start,
        start,
        http("POST", "/v1/chat", 200),
    );

    // A hop: client span in `from`, server span in `to`, a little network time each way.
    let hop = |b: &mut SpanBuilder<'_>,
               rng: &mut Rng,
               from: &str,
               to: &str,
               parent: [u8; 8],
               at: i64,
               route: &str,
               work_ms: (f64, f64)| {
        let client = b.add(
            rng,
            from,
            &format!("POST {to}{route}"),
            SpanKind::Client,
            Some(parent),
            at,
            at,
            http("POST", route, 200),
        );
        let server_start = at + rng.ms(0.3, 2.0);
        let server_end = server_start + rng.ms(work_ms.0, work_ms.1);
        let server = b.add(
            rng,
            to,
            &format!("POST {route}"),
            SpanKind::Server,
            Some(client),
            server_start,
            server_end,
            http("POST", route, 200),
        );
        let client_end = server_end + rng.ms(0.3, 2.0);
        set_end(b, client, client_end, None);
        (server, client_end)
    };

    let mut t = start + rng.ms(0.5, 2.0);
    let (_, auth_end) = hop(
        &mut b,
        rng,
        "api-gateway",
        "auth-service",
        gateway,
        t,
        "/verify",
        (3.0, 15.0),
    );
    t = auth_end + rng.ms(0.2, 1.0);
    let (agent_server, _) = hop(
        &mut b,
        rng,
        "api-gateway",
        "agent-service",
        gateway,
        t,
        "/agent/run",
        (0.0, 0.0),
    );
    let mut a = t + rng.ms(1.5, 4.0);
    let (model_server, model_end) = hop(
        &mut b,
        rng,
        "agent-service",
        "model-service",
        agent_server,
        a,
        "/v1/completions",
        (400.0, 1500.0),
    );
    let question = *rng.pick(QUESTIONS);
    // The model call fills the model-service's server span, less a little request handling.
    let (server_start, server_end) = b
        .spans
        .iter()
        .find(|(_, s)| s.span_id == model_server.to_vec())
        .map_or((a, a), |(_, s)| {
            (s.start_time_unix_nano as i64, s.end_time_unix_nano as i64)
        });
    let at = server_start + rng.ms(0.5, 2.0);
    let latency = (server_end - at - rng.ms(0.5, 2.0)).max(1);
    llm_call(
        &mut b,
        rng,
        "model-service",
        model_server,
        at,
        question,
        ctx.variant_b,
        Some(latency),
    );
    a = model_end + rng.ms(0.5, 2.0);
    let (tool_server, tool_end) = hop(
        &mut b,
        rng,
        "agent-service",
        "tool-service",
        agent_server,
        a,
        "/tools/search",
        (60.0, 300.0),
    );
    let tool_start = b
        .spans
        .iter()
        .find(|(_, s)| s.span_id == tool_server.to_vec())
        .map_or(a, |(_, s)| s.start_time_unix_nano as i64);
    let cache_miss = rng.chance(0.4);
    let at = tool_start + rng.ms(0.5, 2.0);
    let (_, cache_end) = hop(
        &mut b,
        rng,
        "tool-service",
        "cache-service",
        tool_server,
        at,
        "/cache/get",
        (0.5, 4.0),
    );
    if cache_miss {
        let at = cache_end + rng.ms(0.2, 1.0);
        hop(
            &mut b,
            rng,
            "tool-service",
            "search-service",
            tool_server,
            at,
            "/search",
            (40.0, 200.0),
        );
    }
    let failed = rng.chance(0.04);
    if failed {
        b.fail(
            tool_server,
            tool_end,
            "search backend returned 502",
            "UpstreamError",
        );
    }
    let agent_end = tool_end + rng.ms(1.0, 5.0);
    set_end(&mut b, agent_server, agent_end, None);
    // The gateway's client span to agent-service ends once agent-service answers.
    if let Some((_, s)) = b
        .spans
        .iter_mut()
        .find(|(svc, s)| svc == "api-gateway" && s.name == "POST agent-service/agent/run")
    {
        s.end_time_unix_nano = (agent_end + rng.ms(0.3, 1.5)) as u64;
    }
    let after_agent = agent_end + rng.ms(0.5, 2.0);
    let (_, analytics_end) = hop(
        &mut b,
        rng,
        "api-gateway",
        "analytics-service",
        gateway,
        after_agent,
        "/events",
        (1.0, 6.0),
    );
    let gateway_end = analytics_end + rng.ms(0.2, 1.0);
    set_end(&mut b, gateway, gateway_end, None);
    if failed {
        b.fail(
            gateway,
            gateway_end,
            "upstream tool-service failed",
            "UpstreamError",
        );
    }
    (b.finish(), gateway, failed)
}
