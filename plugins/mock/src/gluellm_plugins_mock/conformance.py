"""The transport conformance suite: what every OpenAI-compatible GlueLLM transport must do.

Each test drives a transport over real HTTP against the fake provider server (loopback,
no keys, no network) and asserts on what crossed the wire and what the transport
returned or raised: plain answers, parameters, tools, structured output, streaming with
usage, embeddings, every error class, cancellation and connection reuse.

Use it from any test suite, inside or outside this repository (it needs pytest,
pytest-asyncio and gluellm-plugins-mock, whose fake-server fixtures it uses)::

    import pytest
    from gluellm_plugins_mock.conformance import TransportConformance

    from my_transport import MyTransport


    class TestMyTransport(TransportConformance):
        @pytest.fixture
        def transport_factory(self):
            return lambda: MyTransport("openai")

``transport_factory`` returns a callable that builds a fresh transport; each test closes
the transport it built. Every call the suite sends carries the fake server's OpenAI base
URL as ``base_url`` and the key ``sk-conformance`` as ``api_key``, so the transport must
honour a call's ``base_url`` and ``api_key``. Override ``conformance.provider`` (default
``openai``) to change the provider name the calls carry.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from gluellm.call import StreamDelta, Transport, Usage
from gluellm.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    InvalidRequestError,
    LLMError,
    RateLimitError,
    TokenLimitError,
)
from gluellm_plugins_mock.conformance_support import (
    API_KEY,
    CONTEXT_SERVERS,
    WEATHER_TOOL,
    City,
    Conformance,
    TransportFactory,
    end_to_end_runtime,
    get_weather,
    read_all,
    wait_for,
)
from gluellm_plugins_mock.fake_server import FakeReply, Fault

if TYPE_CHECKING:
    from gluellm_plugins_mock.fake_server import FakeProviderServer, Step

__all__ = ["Conformance", "TransportConformance", "TransportFactory"]

# (fault, expected error class, description); every class a transport must produce.
STATUS_ERRORS: list[tuple[str, Callable[[], Step], type[LLMError]]] = [
    ("429", lambda: Fault.status(429, retry_after=2), RateLimitError),
    ("401", lambda: Fault.status(401), AuthenticationError),
    ("403", lambda: Fault.status(403), AuthenticationError),
    ("400", lambda: Fault.status(400), InvalidRequestError),
    ("404", lambda: Fault.status(404), InvalidRequestError),
    ("context-openai", lambda: Fault.context_length(), TokenLimitError),
    ("500", lambda: Fault.status(500), APIConnectionError),
    ("503", lambda: Fault.status(503), APIConnectionError),
    *[
        (f"context-{server}", lambda s=server: Fault.context_length(s), TokenLimitError)
        for server in CONTEXT_SERVERS
    ],
]


class TransportConformance:
    """Subclass it as ``Test...`` and provide a ``transport_factory`` fixture."""

    # Marked, so the suite also runs under pytest-asyncio's strict mode.
    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    def conformance_provider(self) -> str:
        """The provider name the suite's calls carry; override to change it."""
        return "openai"

    @pytest.fixture
    def transport_factory(self) -> TransportFactory:
        """Override: return a callable that builds a fresh transport."""
        raise NotImplementedError(
            "Provide a transport_factory fixture returning a callable that builds your transport."
        )

    @pytest.fixture
    def conformance(
        self,
        transport_factory: TransportFactory,
        fake_provider: FakeProviderServer,
        conformance_provider: str,
    ) -> Conformance:
        """The transport factory, the reset fake server and the provider, for one test."""
        return Conformance(transport_factory, fake_provider, conformance_provider)

    # --- answers -----------------------------------------------------------------------

    async def test_plain_answer_with_usage(self, conformance: Conformance) -> None:
        """A text answer comes back with its finish reason and usage; the body is what was sent."""
        conformance.server.enqueue(FakeReply.text("Paris is the capital.", usage=(12, 5)))
        call = conformance.call()
        async with conformance.opened() as transport:
            response = await transport.complete(call)
        assert response.content == "Paris is the capital."
        assert response.finish_reason == "stop"
        assert response.usage == Usage(prompt_tokens=12, completion_tokens=5, total_tokens=17)
        assert response.tool_calls == ()
        [request] = conformance.server.chat_requests
        assert request.model == "gpt-4o-mini"
        assert request.messages == list(call.messages)
        assert not request.stream

    async def test_parameters_key_and_correlation_id_reach_the_wire(
        self, conformance: Conformance
    ) -> None:
        """Model parameters, the key (as a bearer token) and the correlation ID are sent."""
        options = {"temperature": 0.25, "max_tokens": 42, "seed": 7, "stop": ["END"]}
        call = conformance.call(options=options)
        async with conformance.opened() as transport:
            await transport.complete(call)
        [request] = conformance.server.chat_requests
        sent = dict(request.body)
        if "max_tokens" not in sent:  # OpenAI's newer name for it is as good
            sent["max_tokens"] = sent.get("max_completion_tokens")
        assert {name: sent.get(name) for name in options} == options
        assert request.headers.get("Authorization") == f"Bearer {API_KEY}"
        assert request.headers.get("X-Correlation-ID") == call.correlation_id

    async def test_tool_calls_come_back_whole(self, conformance: Conformance) -> None:
        """Offered tools are sent as given; tool calls come back with their ID and arguments."""
        conformance.server.enqueue(
            FakeReply.tool_calls(("get_weather", {"location": "Tokyo"}, "call_abc"))
        )
        call = conformance.call(tools=[WEATHER_TOOL])
        async with conformance.opened() as transport:
            response = await transport.complete(call)
        [tool_call] = response.tool_calls
        assert (tool_call.id, tool_call.name) == ("call_abc", "get_weather")
        assert json.loads(tool_call.arguments) == {"location": "Tokyo"}
        assert response.finish_reason == "tool_calls"
        [request] = conformance.server.chat_requests
        assert request.body["tools"] == [WEATHER_TOOL]

    async def test_tool_loop_end_to_end(self, conformance: Conformance) -> None:
        """Through `complete()`: the tool runs and its result goes back as a tool message."""
        from gluellm.api import complete
        from gluellm.runtime import override_transport, use_runtime

        conformance.server.enqueue(
            FakeReply.tool_calls(("get_weather", {"location": "Tokyo"})),
            FakeReply.text("Sunny in Tokyo."),
        )
        async with conformance.opened() as transport:
            with use_runtime(end_to_end_runtime()), override_transport(transport):
                result = await complete(
                    "Weather in Tokyo?",
                    model=f"{conformance.provider}:gpt-4o-mini",
                    tools=[get_weather],
                    base_url=conformance.server.openai_base_url,
                    api_key=API_KEY,
                )
        assert result.final_response == "Sunny in Tokyo."
        assert result.tool_calls_made == 1
        _first, second = conformance.server.chat_requests
        tool_message = second.messages[-1]
        assert tool_message["role"] == "tool"
        assert "Sunny, 22 C in Tokyo" in tool_message["content"]
        assistant = second.messages[-2]
        assert assistant["tool_calls"][0]["function"]["name"] == "get_weather"

    async def test_structured_output_asks_for_the_json_schema(
        self, conformance: Conformance
    ) -> None:
        """A pydantic ``response_format`` is sent as a ``json_schema`` response format."""
        call = conformance.call(response_format=City)
        async with conformance.opened() as transport:
            response = await transport.complete(call)
        [request] = conformance.server.chat_requests
        asked = request.body["response_format"]
        assert asked["type"] == "json_schema"
        assert set(asked["json_schema"]["schema"]["properties"]) == {"name", "population"}
        assert City.model_validate_json(response.content or "")  # the server's valid answer

    async def test_structured_complete_end_to_end(self, conformance: Conformance) -> None:
        """Through `structured_complete()`: an invalid answer is re-asked, the valid one parsed."""
        from gluellm.api import structured_complete
        from gluellm.runtime import override_transport, use_runtime

        conformance.server.enqueue(
            FakeReply.text("not json"), FakeReply.json({"name": "Paris", "population": 2100000})
        )
        async with conformance.opened() as transport:
            with use_runtime(end_to_end_runtime()), override_transport(transport):
                city = await structured_complete(
                    "Largest city of France?",
                    City,
                    model=f"{conformance.provider}:gpt-4o-mini",
                    base_url=conformance.server.openai_base_url,
                    api_key=API_KEY,
                )
        assert city == City(name="Paris", population=2100000)
        assert len(conformance.server.chat_requests) == 2  # re-asked once

    # --- streaming ---------------------------------------------------------------------

    async def test_stream_text_and_usage(self, conformance: Conformance) -> None:
        """A stream yields the text in pieces, one finish reason and the usage (asked for)."""
        text = "one two three four five"
        conformance.server.enqueue(FakeReply.text(text, usage=(9, 5)))
        call = conformance.call(stream=True)
        async with conformance.opened() as transport:
            response = await transport.complete(call)
            deltas = await read_all(response)
        contents = [d.content for d in deltas if d.content]
        assert "".join(contents) == text
        assert len(contents) >= 5  # streamed in pieces, not one at the end
        assert [d.finish_reason for d in deltas if d.finish_reason] == ["stop"]
        assert [d.usage for d in deltas if d.usage] == [Usage(9, 5, 14)]
        [request] = conformance.server.chat_requests
        assert request.stream
        assert request.body.get("stream_options") == {"include_usage": True}

    async def test_stream_tool_call_fragments_add_up(self, conformance: Conformance) -> None:
        """Streamed tool-call fragments assemble into the whole call."""
        from gluellm.stream_assembly import TurnAssembler

        arguments = {"location": "San Francisco, California", "unit": "celsius"}
        conformance.server.enqueue(FakeReply.tool_calls(("get_weather", arguments, "call_x")))
        call = conformance.call(stream=True, tools=[WEATHER_TOOL])
        async with conformance.opened() as transport:
            deltas = await read_all(await transport.complete(call))
        assert sum(len(d.tool_calls) for d in deltas) > 1  # fragments, as the server sent
        turn = TurnAssembler()
        for delta in deltas:
            turn.add(delta)
        [tool_call] = turn.response("gpt-4o-mini").tool_calls
        assert (tool_call.id, tool_call.name) == ("call_x", "get_weather")
        assert json.loads(tool_call.arguments) == arguments

    # --- embeddings --------------------------------------------------------------------

    async def test_embeddings_in_order_with_usage(self, conformance: Conformance) -> None:
        """One vector per text, in input order, with usage; ``embed_batch_limit`` is sane."""
        from gluellm_plugins_mock.fake_server.defaults import embedding

        texts = ("first text", "second", "the third text here")
        call = conformance.call(
            model_name="text-embedding-3-small",
            operation="embedding",
            input=texts,
        )
        async with conformance.opened() as transport:
            limit = getattr(transport, "embed_batch_limit", 1)
            assert isinstance(limit, int)
            assert limit >= 1
            response = await transport.embed(call)  # type: ignore[attr-defined]
        dimension = conformance.server.embedding_dimension
        assert len(response.embeddings) == len(texts)
        for text, vector in zip(texts, response.embeddings, strict=True):
            assert len(vector) == dimension
            assert all(
                math.isclose(a, b, abs_tol=1e-6)
                for a, b in zip(vector, embedding(text, dimension), strict=True)
            )
        assert response.usage is not None
        assert response.usage.prompt_tokens > 0
        [request] = conformance.server.embedding_requests
        assert request.body["input"] == list(texts)

    # --- errors ------------------------------------------------------------------------

    @pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
    @pytest.mark.parametrize(
        ("fault", "expected"),
        [(make, kind) for _, make, kind in STATUS_ERRORS],
        ids=[name for name, _, _ in STATUS_ERRORS],
    )
    async def test_http_errors_are_classified(
        self,
        conformance: Conformance,
        fault: Callable[[], Step],
        expected: type[LLMError],
        stream: bool,
    ) -> None:
        """Each HTTP error becomes its GlueLLM class (Retry-After kept), streamed or not."""
        conformance.server.enqueue(fault())
        call = conformance.call(stream=stream)
        async with conformance.opened() as transport:
            with pytest.raises(LLMError) as raised:
                await read_all(await transport.complete(call))
        assert type(raised.value) is expected, raised.value
        assert call.correlation_id in str(raised.value)
        if expected is RateLimitError:
            assert raised.value.retry_after == pytest.approx(2)  # type: ignore[attr-defined]

    async def test_a_dropped_connection_is_a_connection_error(
        self, conformance: Conformance
    ) -> None:
        """A connection closed without an answer is a (retryable) `APIConnectionError`."""
        conformance.server.enqueue(Fault.drop_connection())
        async with conformance.opened() as transport:
            with pytest.raises(APIConnectionError) as raised:
                await transport.complete(conformance.call())
        assert not isinstance(raised.value, APITimeoutError)

    async def test_a_web_page_instead_of_the_api_says_what_arrived(
        self, conformance: Conformance
    ) -> None:
        """An HTML page with status 200 is a `ConfigurationError` that says what arrived."""
        conformance.server.enqueue(Fault.html_page())
        async with conformance.opened() as transport:
            with pytest.raises(ConfigurationError) as raised:
                await transport.complete(conformance.call())
        message = str(raised.value).lower()
        assert "base url" in message
        assert "html" in message

    async def test_the_key_never_appears_in_an_error(self, conformance: Conformance) -> None:
        """A gateway that echoes the key does not get it into the error."""
        conformance.server.enqueue(Fault.echo_key(401))
        async with conformance.opened() as transport:
            with pytest.raises(AuthenticationError) as raised:
                await transport.complete(conformance.call())
        assert API_KEY not in str(raised.value)
        assert API_KEY not in repr(raised.value.args)

    async def test_a_slow_answer_times_out_through_the_pipeline(
        self, conformance: Conformance
    ) -> None:
        """Past ``call.timeout`` the call fails with `APITimeoutError` and its connection closes."""
        from gluellm.pipeline import run_call

        conformance.server.enqueue(Fault.delay(30))
        call = conformance.call(timeout=0.5)
        async with conformance.opened() as transport:
            runtime = end_to_end_runtime()
            from gluellm.runtime import override_transport

            with override_transport(transport), pytest.raises(APITimeoutError):
                await run_call(call, runtime)
            # The abandoned request's connection is closed, not left to finish.
            await wait_for(lambda: conformance.server.disconnects >= 1)

    # --- broken streams ----------------------------------------------------------------

    @pytest.mark.parametrize(
        "fault",
        [lambda: Fault.cut_stream(3), lambda: Fault.end_stream_early(3)],
        ids=["cut", "ended-early"],
    )
    async def test_a_stream_that_stops_before_its_answer_raises(
        self,
        conformance: Conformance,
        fault: Callable[[], Step],
    ) -> None:
        """A stream cut or ended before its finish reason raises, never passing for an answer."""
        conformance.server.enqueue(fault())
        call = conformance.call(stream=True)
        received: list[StreamDelta] = []

        async def read(transport: Transport) -> None:
            response = await transport.complete(call)
            assert response.stream is not None
            async for delta in response.stream:
                received.append(delta)

        async with conformance.opened() as transport:
            with pytest.raises(APIConnectionError):
                await read(transport)
        assert not any(d.finish_reason for d in received)  # never passed off as finished

    async def test_an_in_stream_error_frame_is_raised_to_the_reader(
        self, conformance: Conformance
    ) -> None:
        """An error frame in the middle of a stream reaches the reader as an `LLMError`."""
        conformance.server.enqueue(Fault.stream_error(after_chunks=3, status=500))
        call = conformance.call(stream=True)
        async with conformance.opened() as transport:
            response = await transport.complete(call)
            with pytest.raises(APIConnectionError):
                await read_all(response)

    async def test_an_error_before_the_first_chunk_is_raised_by_complete(
        self, conformance: Conformance
    ) -> None:
        """A stream failing before its first chunk fails in ``complete`` (so it can be retried)."""
        # Raised while the pipeline still holds the call, so the retry layer can retry it.
        conformance.server.enqueue(Fault.stream_error(after_chunks=0, status=503))
        call = conformance.call(stream=True)
        async with conformance.opened() as transport:
            with pytest.raises(APIConnectionError):
                await transport.complete(call)

    # --- cancellation and connections ----------------------------------------------------

    async def test_closing_a_stream_early_closes_the_connection(
        self, conformance: Conformance
    ) -> None:
        """Closing a stream before its end closes the connection: the server stops."""
        conformance.server.stream_chunk_delay = 0.02
        conformance.server.enqueue(FakeReply.text(" ".join(f"w{i}" for i in range(200))))
        call = conformance.call(stream=True)
        async with conformance.opened() as transport:
            response = await transport.complete(call)
            assert response.stream is not None
            stream = response.stream
            await anext(stream)
            await anext(stream)
            await stream.aclose()  # type: ignore[attr-defined]
            await wait_for(lambda: conformance.server.disconnects >= 1)

    async def test_cancelling_a_request_closes_the_connection(
        self, conformance: Conformance
    ) -> None:
        """Cancelling a call waiting for its answer closes the connection."""
        conformance.server.enqueue(Fault.delay(30))
        call = conformance.call()
        async with conformance.opened() as transport:
            task = asyncio.ensure_future(transport.complete(call))
            await wait_for(lambda: len(conformance.server.chat_requests) == 1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await wait_for(lambda: conformance.server.disconnects >= 1)

    async def test_connections_are_reused_and_closed_by_aclose(
        self, conformance: Conformance
    ) -> None:
        """Sequential calls share one keep-alive connection; ``aclose`` closes it."""
        transport = conformance.factory()
        try:
            for _ in range(4):
                await transport.complete(conformance.call())
            assert conformance.server.open_connections >= 1
        finally:
            await transport.aclose()
        peers = {request.peer for request in conformance.server.chat_requests}
        assert len(peers) == 1, peers  # one keep-alive connection for sequential calls
        await wait_for(lambda: conformance.server.open_connections == 0)
