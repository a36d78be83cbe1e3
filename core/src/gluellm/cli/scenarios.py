"""``test-error-handling``'s scenarios: each provokes one failure and checks the outcome.

A scenario returns a one-line description of what happened, or raises `CommandFailed`
when GlueLLM did not behave as documented (docs/architecture.md, "Errors").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from gluellm.cli.common import CommandFailed

if TYPE_CHECKING:
    from gluellm.runtime import Runtime

Scenario = Callable[[], Awaitable[str]]


def error_scenarios(runtime: Runtime, model: str) -> list[tuple[str, Scenario]]:
    """The scenarios for ``model`` (a real-key one is added when ``model`` is not offline)."""
    from gluellm.api import complete
    from gluellm.errors import (
        AuthenticationError,
        ConfigurationError,
        InvalidRequestError,
        LLMError,
        RateLimitError,
    )
    from gluellm.runtime import override_transport
    from gluellm.testing import ScriptedTransport, reply, tool_call

    retries = runtime.implements("get_retrier")

    async def expect(error_class: type[LLMError], transport: ScriptedTransport) -> str:
        try:
            with override_transport(transport):
                await complete("hello", model=model)
        except error_class as error:
            if len(transport.calls) != 1:
                raise CommandFailed(
                    f"{error_class.__name__} was retried ({len(transport.calls)} requests)"
                ) from error
            return f"{type(error).__name__} raised after 1 request (not retried)"
        raise CommandFailed(f"expected {error_class.__name__}, the call succeeded")

    async def authentication() -> str:
        return await expect(
            AuthenticationError, ScriptedTransport(AuthenticationError("invalid API key"))
        )

    async def invalid_request() -> str:
        return await expect(
            InvalidRequestError, ScriptedTransport(InvalidRequestError("bad parameter"))
        )

    async def rate_limit() -> str:
        transport = ScriptedTransport(RateLimitError("slow down", retry_after=0), "recovered")
        try:
            with override_transport(transport):
                result = await complete("hello", model=model)
        except RateLimitError as error:
            if retries:
                raise CommandFailed("a retry plugin is installed but did not retry") from error
            return "RateLimitError raised (no retry plugin: pip install gluellm-plugins-stamina)"
        if not retries:
            raise CommandFailed("the call succeeded without a retry plugin")
        return (
            f"retried and answered {result.final_response!r} after {len(transport.calls)} requests"
        )

    async def unknown_provider() -> str:
        try:
            await complete("hello", model="no-such-provider:model")
        except ConfigurationError as error:
            return f"ConfigurationError: {str(error).splitlines()[0][:90]}"
        raise CommandFailed("an unknown provider did not raise ConfigurationError")

    async def failing_tool() -> str:
        def fragile(x: int) -> str:
            """A tool that always fails.

            Args:
                x: Any number.
            """
            raise ValueError(f"cannot handle {x}")

        transport = ScriptedTransport(
            reply(tool_calls=[tool_call("fragile", {"x": 1})]),
            reply(tool_calls=[tool_call("fragile", "{not json")]),
            "The tool failed twice; sorry.",
        )
        with override_transport(transport):
            result = await complete("use fragile", model=model, tools=[fragile])
        errors = [entry for entry in result.tool_execution_history if entry.get("error")]
        if len(errors) != 2:
            raise CommandFailed(f"expected 2 failed tool calls in the history, got {len(errors)}")
        return "a raising tool and malformed arguments went back to the model; the run finished"

    scenarios: list[tuple[str, Scenario]] = [
        ("authentication", authentication),
        ("invalid request", invalid_request),
        ("rate limit", rate_limit),
        ("unknown provider", unknown_provider),
        ("failing tool", failing_tool),
    ]
    if not model.startswith("test:"):

        async def bad_key() -> str:
            try:
                await complete("hello", model=model, api_key="sk-gluellm-invalid-key-check")
            except AuthenticationError as error:
                return f"{model} with a wrong key: AuthenticationError ({str(error)[:60]})"
            except LLMError as error:
                raise CommandFailed(
                    f"a wrong key gave {type(error).__name__}, not AuthenticationError"
                ) from error
            raise CommandFailed(f"{model} accepted a wrong API key")

        scenarios.append((f"wrong key on {model}", bad_key))
    return scenarios
