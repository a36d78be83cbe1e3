"""The echo transport: answers with the last message it was sent."""

from gluellm.call import ModelCall, ModelResponse, Usage


class EchoTransport:
    async def complete(self, call: ModelCall) -> ModelResponse:
        text = call.messages[-1]["content"]
        words = len(text.split())
        return ModelResponse(content=text, usage=Usage(words, words, 2 * words))

    async def aclose(self) -> None:
        pass
