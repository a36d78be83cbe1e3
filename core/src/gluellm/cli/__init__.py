"""The ``gluellm`` command line. Commands import their heavy modules when they run."""

from gluellm.cli.app import build_app, main

__all__ = ["build_app", "main"]
