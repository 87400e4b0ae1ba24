"""Agent frameworks traced with their real, unmodified instrumentation against Skein, with fake
models (no network): what a user of each sends.

    python framework_clients.py langgraph         # LangGraph, traced by the LangSmith SDK
    python framework_clients.py langsmith-traceable   # @traceable agent around its model call
    python framework_clients.py pydantic-ai       # pydantic-ai's TestModel, its OpenTelemetry spans
    python framework_clients.py openinference     # LangChain through OpenInference's instrumentor
    python framework_clients.py openai-agents     # the OpenAI Agents SDK through OpenInference
    python framework_clients.py kinds             # OpenInference's other span kinds, by the OTel SDK

The collector comes from LANGSMITH_ENDPOINT (LangSmith SDK) or SKEIN_OTLP_URL (OTLP/HTTP
traces endpoint). Every model call reports 40 input and 19 output tokens. Prints one JSON line
with what happened, for the Rust test (tests/clients.rs) to check.
"""

import asyncio
import json
import os
import sys
import warnings

warnings.simplefilter("ignore")  # deprecation notices are not under test

INPUT_TOKENS, OUTPUT_TOKENS = 40, 19
METADATA = {"env": "production", "customer": "acme"}


def tracer_provider(service):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": service, "deployment.environment": "staging"}
        )
    )
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=os.environ["SKEIN_OTLP_URL"]))
    )
    return provider


def fake_chat_model(answers):
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    usage = {
        "input_tokens": INPUT_TOKENS,
        "output_tokens": OUTPUT_TOKENS,
        "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS,
    }
    return GenericFakeChatModel(
        messages=iter([AIMessage(content=a, usage_metadata=usage) for a in answers])
    )


def langgraph():
    """A supervisor node that calls the model and hands over to a writer node; the chain
    around the model call returns its message, usage and all."""
    from typing import Annotated, TypedDict

    from langchain_core.messages import HumanMessage
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.tracers.langchain import wait_for_all_tracers
    from langgraph.graph import END, START, StateGraph
    from langgraph.graph.message import add_messages

    model = fake_chat_model(["writer should answer"])
    plan = ChatPromptTemplate.from_messages([("human", "{question}")]) | model

    class State(TypedDict):
        messages: Annotated[list, add_messages]

    def supervisor(state):
        return {"messages": [plan.invoke({"question": state["messages"][-1].content})]}

    def writer(state):
        return {"messages": [HumanMessage(content="the answer")]}

    graph = StateGraph(State)
    graph.add_node("supervisor", supervisor)
    graph.add_node("writer", writer)
    graph.add_edge(START, "supervisor")
    graph.add_edge("supervisor", "writer")
    graph.add_edge("writer", END)
    app = graph.compile()
    app.invoke(
        {"messages": [HumanMessage(content="what is skein?")]},
        config={"metadata": dict(METADATA), "configurable": {"thread_id": "thread-lg-1"}},
    )
    wait_for_all_tracers()
    from langsmith.run_trees import get_cached_client

    get_cached_client().flush()
    return {}


def langsmith_traceable():
    """An agent function that returns its model call's response, usage and all, around the
    model call itself (`run_type="llm"`): the usage of one call, reported twice."""
    from langsmith import traceable
    from langsmith.run_helpers import get_current_run_tree
    from langsmith.run_trees import get_cached_client

    trace = {}

    @traceable(run_type="llm", metadata={"ls_provider": "openai", "ls_model_name": "gpt-4o-mini"})
    def call_model(question):
        return {
            "choices": [{"message": {"role": "assistant", "content": "an answer"}}],
            "usage_metadata": {
                "input_tokens": INPUT_TOKENS,
                "output_tokens": OUTPUT_TOKENS,
                "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS,
            },
        }

    @traceable(name="answer_agent")
    def answer_agent(question):
        trace["trace_id"] = str(get_current_run_tree().trace_id)
        return call_model(question)

    answer_agent(
        "what is skein?",
        langsmith_extra={
            "metadata": {**METADATA, "session_id": "ls-session-1", "user_id": "ls-user-1"}
        },
    )
    get_cached_client().flush()
    return trace


def pydantic_ai():
    from pydantic_ai import Agent
    from pydantic_ai.models.instrumented import InstrumentationSettings
    from pydantic_ai.models.test import TestModel

    provider = tracer_provider("pydantic-svc")
    Agent.instrument_all(InstrumentationSettings(tracer_provider=provider))
    agent = Agent(
        TestModel(custom_output_text="a test answer"),
        name="support_agent",
        metadata=dict(METADATA),
    )

    @agent.tool_plain
    def lookup(topic: str) -> str:
        return f"facts about {topic}"

    result = agent.run_sync("what is skein?")
    provider.shutdown()
    usage = result.usage()
    return {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}


def openinference():
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from openinference.instrumentation import using_metadata
    from openinference.instrumentation.langchain import LangChainInstrumentor

    provider = tracer_provider("openinference-svc")
    LangChainInstrumentor().instrument(tracer_provider=provider)
    chain = (
        ChatPromptTemplate.from_messages([("human", "{question}")])
        | fake_chat_model(["an answer"])
        | StrOutputParser()
    ).with_config(run_name="qa_chain")
    with using_metadata(dict(METADATA)):
        chain.invoke({"question": "what is skein?"})
    provider.shutdown()
    return {}


def openai_agents():
    from agents import (
        Agent,
        GuardrailFunctionOutput,
        ModelResponse,
        Runner,
        Usage,
        generation_span,
        input_guardrail,
        set_trace_processors,
    )
    from agents.models.interface import Model
    from openai.types.responses import ResponseOutputMessage, ResponseOutputText
    from openinference.instrumentation import using_metadata
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    provider = tracer_provider("openai-agents-svc")
    set_trace_processors([])  # nothing to OpenAI's own trace endpoint
    OpenAIAgentsInstrumentor().instrument(tracer_provider=provider)

    class FakeModel(Model):
        """A model provider of one's own: it records its call in a generation span, as the
        SDK's own providers do."""

        async def get_response(self, *args, **kwargs):
            with generation_span(
                model="fake-model",
                input=[{"role": "user", "content": "what is skein?"}],
                usage={"input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS},
            ) as span:
                span.span_data.output = [{"role": "assistant", "content": "an answer"}]
            message = ResponseOutputMessage(
                id="msg_1",
                type="message",
                role="assistant",
                status="completed",
                content=[ResponseOutputText(type="output_text", text="an answer", annotations=[])],
            )
            return ModelResponse(
                output=[message],
                usage=Usage(
                    requests=1,
                    input_tokens=INPUT_TOKENS,
                    output_tokens=OUTPUT_TOKENS,
                    total_tokens=INPUT_TOKENS + OUTPUT_TOKENS,
                ),
                response_id="resp_1",
            )

        def stream_response(self, *args, **kwargs):
            raise NotImplementedError

    @input_guardrail
    async def polite(ctx, agent, text):
        return GuardrailFunctionOutput(output_info={"polite": True}, tripwire_triggered=False)

    agent = Agent(
        name="support_agent",
        instructions="Answer briefly.",
        model=FakeModel(),
        input_guardrails=[polite],
    )
    # OpenInference's own way to give a trace metadata (it sends none of the SDK's).
    with using_metadata(dict(METADATA)):
        asyncio.run(Runner.run(agent, "what is skein?"))
    provider.shutdown()
    return {}


def kinds():
    """One span of each OpenInference kind under a chain, as any instrumentor emits them."""
    provider = tracer_provider("kinds-svc")
    tracer = provider.get_tracer("kinds")
    with tracer.start_as_current_span("pipeline") as root:
        root.set_attribute("openinference.span.kind", "CHAIN")
        root.set_attribute("metadata", json.dumps(METADATA))
        for kind in ["PROMPT", "EMBEDDING", "RERANKER", "GUARDRAIL", "EVALUATOR", "RETRIEVER"]:
            with tracer.start_as_current_span(kind.lower() + "_step") as span:
                span.set_attribute("openinference.span.kind", kind)
    provider.shutdown()
    return {}


MODES = {
    "langgraph": langgraph,
    "langsmith-traceable": langsmith_traceable,
    "pydantic-ai": pydantic_ai,
    "openinference": openinference,
    "openai-agents": openai_agents,
    "kinds": kinds,
}

if __name__ == "__main__":
    print(json.dumps(MODES[sys.argv[1]]()))
