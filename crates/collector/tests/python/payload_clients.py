"""One small tool-using agent run, traced by each unmodified client whose conversations Skein
must read: a model asks for get_weather, the tool answers, the model answers in words.

    python payload_clients.py pydantic-ai     # pydantic-ai's own OTel instrumentation (gen_ai.*)
    python payload_clients.py openinference   # OpenInference's LangChain instrumentor (llm.*_messages)
    python payload_clients.py langsmith       # a LangChain chat model traced by the LangSmith SDK
    python payload_clients.py openai-agents   # the OpenAI Agents SDK through OpenInference

OTLP clients export to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; the LangSmith SDK reads the usual
LANGSMITH_* variables. Prints one JSON line: {"client": ...}. Nothing here talks to a model
provider: the models are the libraries' own test models.
"""

import json
import sys
import warnings

warnings.simplefilter("ignore")  # the libraries' deprecation notices are not under test

QUESTION = "What's the weather in Paris?"
ANSWER = "It is sunny in Paris."


def otel_provider(service):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))
    return provider


def langchain_parts():
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
    from langchain_core.tools import tool

    @tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"Sunny in {city}"

    replies = iter(
        [
            AIMessage(
                content="",
                tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}],
            ),
            AIMessage(content=ANSWER),
        ]
    )
    model = GenericFakeChatModel(messages=replies)

    def run():
        history = [SystemMessage("Be brief."), HumanMessage(QUESTION)]
        asked = model.invoke(history)
        answered = get_weather.invoke(asked.tool_calls[0])
        return model.invoke(history + [asked, answered])

    return run


def pydantic_ai():
    from opentelemetry import trace
    from pydantic_ai import Agent
    from pydantic_ai.models.test import TestModel

    provider = otel_provider("weather-pydantic")
    trace.set_tracer_provider(provider)
    Agent.instrument_all()
    agent = Agent(TestModel(), system_prompt="Be brief.", name="weather_agent")

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"Sunny in {city}"

    agent.run_sync(QUESTION)
    provider.shutdown()


def openinference():
    from openinference.instrumentation.langchain import LangChainInstrumentor

    provider = otel_provider("weather-openinference")
    LangChainInstrumentor().instrument(tracer_provider=provider)
    run = langchain_parts()
    from langchain_core.runnables import RunnableLambda

    RunnableLambda(lambda _: run(), name="weather_chain").invoke({"question": QUESTION})
    provider.shutdown()


def langsmith():
    from langchain_core.tracers.langchain import wait_for_all_tracers
    from langsmith import traceable

    run = langchain_parts()

    @traceable(name="weather_chain")
    def chain(question):
        return {"answer": run().content}

    chain(QUESTION)
    wait_for_all_tracers()


def openai_agents():
    import httpx
    from agents import Agent, OpenAIResponsesModel, Runner, function_tool
    from openai import AsyncOpenAI
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    provider = otel_provider("weather-openai-agents")
    OpenAIAgentsInstrumentor().instrument(tracer_provider=provider)
    turns = []

    def responses_api(request):
        turns.append(request)
        if len(turns) == 1:
            output = [
                {
                    "type": "function_call",
                    "id": "fc_1",
                    "call_id": "call_1",
                    "name": "get_weather",
                    "arguments": '{"city":"Paris"}',
                    "status": "completed",
                }
            ]
        else:
            text = {"type": "output_text", "text": ANSWER, "annotations": []}
            output = [
                {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed", "content": [text]}
            ]
        return httpx.Response(
            200,
            json={
                "id": f"resp_{len(turns)}",
                "object": "response",
                "created_at": 1,
                "model": "gpt-4o-mini",
                "status": "completed",
                "output": output,
                "parallel_tool_calls": True,
                "tool_choice": "auto",
                "tools": [],
                "usage": {
                    "input_tokens": 30,
                    "output_tokens": 10,
                    "total_tokens": 40,
                    "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens_details": {"reasoning_tokens": 0},
                },
            },
        )

    client = AsyncOpenAI(
        api_key="test",
        base_url="http://openai.invalid/v1",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(responses_api)),
    )

    @function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"Sunny in {city}"

    model = OpenAIResponsesModel(model="gpt-4o-mini", openai_client=client)
    agent = Agent(name="weather_agent", instructions="Be brief.", tools=[get_weather], model=model)
    Runner.run_sync(agent, QUESTION)
    provider.shutdown()


if __name__ == "__main__":
    clients = {
        "pydantic-ai": pydantic_ai,
        "openinference": openinference,
        "langsmith": langsmith,
        "openai-agents": openai_agents,
    }
    clients[sys.argv[1]]()
    print(json.dumps({"client": sys.argv[1]}))
