"""Run the fake provider server standalone: ``python -m gluellm_plugins_mock.fake_server``.

Prints the server URL on stdout once it accepts connections, then serves until
interrupted (SIGINT or SIGTERM). Requests are not recorded unless ``--record`` is given,
so long benchmark runs do not grow its memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from gluellm_plugins_mock.fake_server.server import FakeProviderServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gluellm_plugins_mock.fake_server",
        description="A fake OpenAI/Anthropic-compatible server for tests and benchmarks.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each response")
    parser.add_argument(
        "--stream-chunk-delay", type=float, default=0.0, help="seconds between stream chunks"
    )
    parser.add_argument("--embedding-dimension", type=int, default=16, help="embedding size")
    parser.add_argument("--record", action="store_true", help="keep every request in memory")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    server = FakeProviderServer(
        latency=args.latency,
        stream_chunk_delay=args.stream_chunk_delay,
        host=args.host,
        port=args.port,
        embedding_dimension=args.embedding_dimension,
        record_requests=args.record,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    async with server:
        print(server.url, flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    """Parse ``argv`` and serve until interrupted."""
    args = _parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
