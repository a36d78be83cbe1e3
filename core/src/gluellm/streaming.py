"""The streaming tool loop: tokens as they arrive, tools included.

Each model turn is requested with ``stream=True`` through the normal call pipeline, so
middleware, retries and rate limits apply until the provider accepts the request; after
the first chunk nothing is replayed. Content is yielded chunk by chunk while tool-call
fragments are assembled. When a turn ends with tool calls, the loop reports each call
(``tool_call``), runs them concurrently, reports each result as it finishes
(``tool_result``), and streams the next turn token by token. The last chunk
(``done``) carries the run's `ToolExecutionResult`.

The rules after each turn (tool-round limit, history, structured-output re-ask) are the
non-streaming loop's own `LoopState`, so both loops behave alike.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Literal, TypeAlias

import attrs

from gluellm.call import Message, ModelCall, ModelResponse, StreamDelta, ToolCallRequest
from gluellm.correlation import correlation_scope
from gluellm.errors import StreamCutError
from gluellm.pipeline import run_call
from gluellm.results import ToolExecutionResult
from gluellm.runtime import Runtime
from gluellm.stream_assembly import TurnAssembler
from gluellm.tool_loop import LoopOptions, LoopState, notify_tool_calls
from gluellm.tools import ToolExecution, execute_tool_call

ChunkKind: TypeAlias = Literal["content", "tool_call", "tool_result", "reask", "done"]
"""What a `StreamChunk` reports.

``content``: text of the model's answer. ``tool_call``: the model asked for a tool, which
is about to run. ``tool_result``: a tool finished. ``reask``: the answer did not validate
against the response format, and the model is asked again (text streamed since the last
turn began is superseded). ``done``: the last chunk, with the run's result.
"""


@attrs.frozen(kw_only=True)
class StreamChunk:
    """One item of a `stream_complete` stream.

    Only ``content`` chunks carry text, so ``print(chunk.content, end="")`` over every
    chunk prints exactly the model's words.

    Attributes:
        content: Text to append to the answer; empty for events.
        kind: What this chunk reports; see `ChunkKind`.
        turn: Which model turn produced it, counting from 0; a new turn starts after
            each round of tools and each re-ask.
        tool_calls_made: Tool calls finished so far in this run.
        tool_call: For ``tool_call`` chunks: the call about to run.
        tool_result: For ``tool_result`` chunks: the finished execution.
        reask_message: For ``reask`` chunks: what the model is told about its answer.
        result: For the ``done`` chunk: the run's summary (final text, tool history,
            summed token usage), as `complete` returns it.
    """

    content: str = ""
    kind: ChunkKind = "content"
    turn: int = 0
    tool_calls_made: int = 0
    tool_call: ToolCallRequest | None = None
    tool_result: ToolExecution | None = None
    reask_message: str | None = None
    result: ToolExecutionResult | None = None

    @property
    def done(self) -> bool:
        """Whether this is the last chunk (it carries ``result``)."""
        return self.kind == "done"


async def stream_tool_loop(
    template: ModelCall,
    system: list[Message],
    history: list[Message],
    options: LoopOptions,
    runtime: Runtime,
) -> AsyncGenerator[StreamChunk, None]:
    """Run the tool loop with every model turn streamed; append new messages to ``history``.

    Closing the generator (``break`` in an ``aclosing`` block, or cancelling the task
    that reads it) closes the open model stream and cancels running tools.

    Args:
        template: The call to make each turn; its messages are replaced every turn.
        system: Messages that lead every request (the system prompt).
        history: The conversation so far, ending with the new user message.
        options: Tools and limits.
        runtime: Where transports and plugins come from.

    Yields:
        Content chunks and events, ending with one ``done`` chunk.

    Raises:
        MaxToolIterationsError: The model still wanted tools after the limit.
        StructuredOutputError: The answer never validated against ``response_format``.
        LLMError: A classified provider error, also one that cut a stream midway.
    """
    state = LoopState(attrs.evolve(template, stream=True), system, history, options)
    turn = 0
    while True:
        call = state.next_call()
        with correlation_scope(call.correlation_id):
            response = await run_call(call, runtime)
        if response.stream is None:
            # A layer that answered whole (a cache, a transport that cannot stream) still
            # works: its answer is one chunk.
            if response.content:
                yield StreamChunk(
                    content=response.content, turn=turn, tool_calls_made=len(state.executions)
                )
        else:
            assembler = TurnAssembler()
            response_stream = response.stream
            async with _closing(response_stream) as deltas:
                async for delta in deltas:
                    assembler.add(delta)
                    if delta.content:
                        yield StreamChunk(
                            content=delta.content, turn=turn, tool_calls_made=len(state.executions)
                        )
            if not assembler.finished:
                # Ended without a finish reason: cut short, not complete. Raising keeps the
                # partial answer out of the result and out of a client's conversation.
                raise StreamCutError(
                    f"The stream from {call.model} ended without a finish reason after "
                    f"{assembler.chunks} chunks: it was cut short, and its partial answer was "
                    f"dropped (correlation ID {call.correlation_id}). Retry the call."
                )
            response = assembler.response(model=call.model_name)
            final = getattr(response_stream, "final", None)
            if isinstance(final, ModelResponse):  # the pipeline priced the turn
                response = attrs.evolve(response, estimated_cost_usd=final.estimated_cost_usd)
        result = state.after_turn(call, response)
        if result is not None:
            yield StreamChunk(
                kind="done", turn=turn, result=result, tool_calls_made=len(state.executions)
            )
            return
        if response.tool_calls:
            for request in response.tool_calls:
                yield StreamChunk(
                    kind="tool_call",
                    turn=turn,
                    tool_call=request,
                    tool_calls_made=len(state.executions),
                )
            finished: dict[int, ToolExecution] = {}
            running = _execute_as_completed(response.tool_calls, call, options, runtime)
            async with contextlib.aclosing(running) as results:
                async for index, execution in results:
                    finished[index] = execution
                    yield StreamChunk(
                        kind="tool_result",
                        turn=turn,
                        tool_result=execution,
                        tool_calls_made=len(state.executions) + len(finished),
                    )
            # The history lists results in the order the model asked, like the
            # non-streaming loop, whatever order they finished in.
            state.record(finished[index] for index in sorted(finished))
        else:
            yield StreamChunk(
                kind="reask",
                turn=turn,
                reask_message=str(state.history[-1].get("content")),
                tool_calls_made=len(state.executions),
            )
        turn += 1


@contextlib.asynccontextmanager
async def _closing(stream: AsyncIterator[StreamDelta]) -> AsyncIterator[AsyncIterator[StreamDelta]]:
    """Close a transport's stream however the block ends: that closes its connection."""
    try:
        yield stream
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


async def _execute_as_completed(
    requests: Sequence[ToolCallRequest], call: ModelCall, options: LoopOptions, runtime: Runtime
) -> AsyncGenerator[tuple[int, ToolExecution], None]:
    """Run tool calls concurrently; yield each (request index, execution) as it finishes.

    Observers hear of each execution as it finishes, once, as in the non-streaming loop.
    If the reader stops early, unfinished tools are cancelled.
    """
    with correlation_scope(call.correlation_id):  # tasks copy the context they start in
        tasks = [
            asyncio.ensure_future(_indexed(index, request, options, call, runtime))
            for index, request in enumerate(requests)
        ]
    try:
        for next_finished in asyncio.as_completed(tasks):
            index, execution = await next_finished
            notify_tool_calls([execution], runtime, call)
            yield index, execution
    finally:
        unfinished = [task for task in tasks if not task.done()]
        for task in unfinished:
            task.cancel()
        if unfinished:
            await asyncio.gather(*unfinished, return_exceptions=True)


async def _indexed(
    index: int, request: ToolCallRequest, options: LoopOptions, call: ModelCall, runtime: Runtime
) -> tuple[int, ToolExecution]:
    execution = await execute_tool_call(
        request, options.tools, call.correlation_id, runtime=runtime, run=call.run
    )
    return index, execution
