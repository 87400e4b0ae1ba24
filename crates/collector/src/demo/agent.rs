//! The multi-agent run: main_agent → planning_agent, execution_agent → sub_agent_1..3,
//! synthesis_agent, with their LLM and tool calls.

use super::spans::*;
use super::*;

/// main_agent → planning_agent, execution_agent → sub_agent_1..3, synthesis_agent.
pub(super) fn agent_trace(rng: &mut Rng, ctx: &Context, start: i64) -> (DemoTrace, [u8; 8], bool) {
    let service = "agent-service";
    let mut b = SpanBuilder {
        ctx,
        spans: Vec::new(),
    };
    let question = *rng.pick(QUESTIONS);
    let slow = ctx.variant_b;
    let agent = |name: &str| {
        vec![
            kv("gen_ai.operation.name", "invoke_agent"),
            kv("gen_ai.agent.name", name),
            kv("openinference.span.kind", "AGENT"),
        ]
    };
    // Ids are drawn first, times filled in once the children are laid out.
    let mut main_attrs = agent("main_agent");
    main_attrs.push(kv("input.value", question));
    let main = b.add(
        rng,
        service,
        "main_agent",
        SpanKind::Server,
        None,
        start,
        start,
        main_attrs,
    );

    let plan_start = start + rng.ms(2.0, 10.0);
    let planning = b.add(
        rng,
        service,
        "planning_agent",
        SpanKind::Internal,
        Some(main),
        plan_start,
        plan_start,
        agent("planning_agent"),
    );
    let at = plan_start + rng.ms(1.0, 5.0);
    let (_, plan_llm_end) = llm_call(&mut b, rng, service, planning, at, question, slow, None);
    let plan_end = plan_llm_end + rng.ms(1.0, 8.0);
    set_end(
        &mut b,
        planning,
        plan_end,
        Some((
            "output.value",
            "1. search sources 2. analyse 3. cross-check",
        )),
    );

    let exec_start = plan_end + rng.ms(1.0, 5.0);
    let execution = b.add(
        rng,
        service,
        "execution_agent",
        SpanKind::Internal,
        Some(main),
        exec_start,
        exec_start,
        agent("execution_agent"),
    );
    let mut exec_end = exec_start;
    let fails = rng.chance(0.05);
    let failing_sub = rng.below(3);
    for i in 0..3 {
        // Sub-agents run in parallel, staggered a little.
        let sub_start = exec_start + rng.ms(1.0, 30.0);
        let name = format!("sub_agent_{}", i + 1);
        let sub = b.add(
            rng,
            service,
            &name,
            SpanKind::Internal,
            Some(execution),
            sub_start,
            sub_start,
            agent(&name),
        );
        let mut cursor = sub_start + rng.ms(1.0, 5.0);
        if i == 1 {
            let tool_end = cursor + rng.ms(80.0, 400.0);
            b.add(
                rng,
                service,
                "web_search",
                SpanKind::Internal,
                Some(sub),
                cursor,
                tool_end,
                vec![
                    kv("gen_ai.operation.name", "execute_tool"),
                    kv("gen_ai.tool.name", "web_search"),
                    kv(
                        "input.value",
                        format!("{{\"query\": {:?}}}", question).as_str(),
                    ),
                    kv(
                        "output.value",
                        "[{\"title\": \"Result 1\", \"url\": \"https://example.org/1\"}]",
                    ),
                ],
            );
            cursor = tool_end + rng.ms(1.0, 5.0);
        }
        let (llm, llm_end) = llm_call(&mut b, rng, service, sub, cursor, question, slow, None);
        let sub_end = llm_end + rng.ms(1.0, 10.0);
        if fails && i == failing_sub {
            b.fail(llm, llm_end, "Request timed out after 30s", "TimeoutError");
            b.fail(
                sub,
                sub_end,
                "sub-agent failed: Request timed out after 30s",
                "TimeoutError",
            );
        }
        set_end(
            &mut b,
            sub,
            sub_end,
            Some((
                "output.value",
                "Findings: three sources agree on the main point.",
            )),
        );
        exec_end = exec_end.max(sub_end);
    }
    exec_end += rng.ms(1.0, 5.0);
    if fails {
        b.fail(
            execution,
            exec_end,
            "1 of 3 sub-agents failed",
            "AgentError",
        );
    }
    set_end(&mut b, execution, exec_end, None);

    let synth_start = exec_end + rng.ms(1.0, 5.0);
    let synthesis = b.add(
        rng,
        service,
        "synthesis_agent",
        SpanKind::Internal,
        Some(main),
        synth_start,
        synth_start,
        agent("synthesis_agent"),
    );
    let at = synth_start + rng.ms(1.0, 4.0);
    let (_, synth_llm_end) = llm_call(&mut b, rng, service, synthesis, at, question, slow, None);
    let synth_end = synth_llm_end + rng.ms(1.0, 6.0);
    set_end(
        &mut b,
        synthesis,
        synth_end,
        Some(("output.value", "A concise answer with three cited sources.")),
    );
    let main_end = synth_end + rng.ms(1.0, 8.0);
    set_end(
        &mut b,
        main,
        main_end,
        Some(("output.value", "A concise answer with three cited sources.")),
    );
    if fails {
        b.fail(
            main,
            main_end,
            "execution failed: 1 of 3 sub-agents failed",
            "AgentError",
        );
    }
    (b.finish(), main, fails)
}
