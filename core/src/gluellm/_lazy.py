"""Lazy re-exports of names that live in plugin distributions.

A core module such as ``gluellm.executors`` keeps the spec's import path working while
the code lives in a plugin: it calls `reexport`, which gives it a module
``__getattr__`` that imports the plugin module on first access, and raises an
ImportError naming the distribution to install when the plugin is missing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["reexport"]


def reexport(
    module_name: str, target: str, names: Iterable[str], distribution: str
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a module that re-exports ``names`` from ``target``.

    Args:
        module_name: The re-exporting module's ``__name__`` (for error messages).
        target: The plugin module holding the names.
        names: The names to re-export.
        distribution: The distribution that provides ``target``.

    Usage, in the re-exporting module::

        __getattr__, __dir__ = reexport(__name__, "my_plugin.things", ["Thing"], "my-plugin")
    """
    exported = frozenset(names)

    def __getattr__(name: str) -> Any:
        if name not in exported:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as error:
            if error.name is None or not target.startswith(error.name):
                raise
            raise ImportError(
                f"{module_name}.{name} is provided by the {distribution} plugin, which is not "
                f"installed. Install it with: pip install {distribution}"
            ) from error
        return getattr(module, name)

    def __dir__() -> list[str]:
        return sorted(exported)

    return __getattr__, __dir__
