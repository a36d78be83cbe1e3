"""A fake OpenAI/Anthropic server on loopback, for testing over real HTTP.

Example::

    from gluellm_plugins_mock.fake_server import FakeProviderServer, FakeReply, Fault

    async with FakeProviderServer() as server:
        server.enqueue(Fault.status(429, retry_after=1.0), FakeReply.text("hello"))
        client = openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="sk-test")
        ...
        assert len(server.chat_requests) == 2

Run it standalone with ``python -m gluellm_plugins_mock.fake_server --port 8000``.
"""

from gluellm_plugins_mock.fake_server.server import FakeProviderServer, Responder
from gluellm_plugins_mock.fake_server.steps import (
    CutStreamFault,
    DelayFault,
    DropConnectionFault,
    EarlyEndFault,
    EchoKeyFault,
    FakeReply,
    FakeToolCall,
    Fault,
    RawBodyFault,
    RecordedRequest,
    StatusFault,
    Step,
    StreamErrorFault,
)

__all__ = [
    "CutStreamFault",
    "DelayFault",
    "DropConnectionFault",
    "EarlyEndFault",
    "EchoKeyFault",
    "FakeProviderServer",
    "FakeReply",
    "FakeToolCall",
    "Fault",
    "RawBodyFault",
    "RecordedRequest",
    "Responder",
    "StatusFault",
    "Step",
    "StreamErrorFault",
]
