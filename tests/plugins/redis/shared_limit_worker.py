"""One process of the two-process test: calls GlueLLM flat out under a Redis-shared limit.

Usage: ``python shared_limit_worker.py REDIS_URL SECONDS``. Prints one JSON object:
``admitted`` (wall-clock time of every request the transport received) and ``errors``
(anything a call raised: there should be nothing).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from gluellm.api import complete
from gluellm.call import ModelCall
from gluellm.config import Settings
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, override_transport, use_runtime
from gluellm.testing import FunctionTransport
from gluellm_plugins_aiolimiter import plugin as aiolimiter_plugin
from gluellm_plugins_redis import plugin as redis_plugin

WORKERS = 4


async def main(url: str, seconds: float) -> dict[str, list[object]]:
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(aiolimiter_plugin, name="aiolimiter")
    manager.register(redis_plugin, name="redis")
    runtime = Runtime(
        manager,
        settings=Settings(
            rate_limit_backend="redis",
            rate_limit_redis_url=url,
            rate_limit_requests_per_minute=60,
            rate_limit_burst=1,
        ),
    )
    admitted: list[float] = []

    def answer(call: ModelCall) -> str:
        admitted.append(time.time())
        return "ok"

    async def worker() -> None:
        while True:
            await complete("hi", model="openai:gpt-4o-mini")

    with use_runtime(runtime), override_transport(FunctionTransport(answer)):
        tasks = [asyncio.create_task(worker()) for _ in range(WORKERS)]
        await asyncio.sleep(seconds)
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await runtime.aclose()
    errors = [repr(r) for r in results if not isinstance(r, asyncio.CancelledError)]
    return {"admitted": list(admitted), "errors": list(errors)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], float(sys.argv[2])))))
