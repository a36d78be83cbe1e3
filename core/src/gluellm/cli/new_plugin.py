"""``gluellm new-plugin NAME --kind KIND``: write an installable plugin project.

The project's files are jinja2 templates shipped as package data under
``gluellm/cli/templates/``: ``common/`` (``pyproject.toml`` with the entry point, the
README, the package's ``__init__``) plus one folder per kind (``plugin.py`` with the
kind's hooks, its modules, and tests that pass as generated). In template paths,
``__module__`` stands for the import package's name; every template ends in ``.j2``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any

import typer

NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
"""A plugin name: lowercase words joined by hyphens (``demo``, ``my-cache``)."""


class Kind(enum.StrEnum):
    """What the plugin does."""

    transport = "transport"
    middleware = "middleware"
    store = "store"
    workflow = "workflow"


# Per kind: description, runtime dependencies, test dependencies, layout lines, usage.
_KINDS: dict[Kind, dict[str, Any]] = {
    Kind.transport: {
        "description": "A GlueLLM transport for the '{name}' provider (OpenAI-compatible API).",
        "dependencies": ["gluellm", "aiohttp>=3.9"],
        "test_dependencies": ["gluellm-plugins-mock"],
        "layout": [
            ("src/{module}/transport.py", "`{class_name}`: complete, stream, embed, close."),
            ("src/{module}/_wire.py", "the request bodies, answers and the SSE stream."),
            ("src/{module}/_errors.py", "HTTP answers mapped onto GlueLLM's error classes."),
            ("tests/test_conformance.py", "the shared transport conformance suite."),
        ],
        "usage": (
            "## Use\n\n```python\nfrom gluellm.api import complete\n\n"
            'result = await complete("Hi", model="{name}:my-model", '
            'base_url="http://localhost:8000/v1")\n```\n\n'
            "Without `base_url=`, the transport reads `{prefix}_BASE_URL`; the key comes from "
            "`api_key=` or `{prefix}_API_KEY`.\n"
        ),
    },
    Kind.middleware: {
        "description": "A GlueLLM middleware plugin '{name}': wraps model calls and runs.",
        "dependencies": ["gluellm", "attrs", "loguru"],
        "test_dependencies": [],
        "layout": [
            ("src/{module}/middleware.py", "the `wrap_call` and `wrap_run` layers."),
            ("tests/test_middleware.py", "both layers over a scripted transport."),
        ],
        "usage": (
            "## Use\n\nInstalled, it wraps every call: `wrap_run` once per `complete()` "
            "(tool loop included), `wrap_call` once per model request (outside retries).\n"
        ),
    },
    Kind.store: {
        "description": "A GlueLLM eval store '{name}': writes eval records as JSON lines.",
        "dependencies": ["gluellm"],
        "test_dependencies": [],
        "layout": [
            ("src/{module}/store.py", "`{class_name}`: an `EvalStore` (record, close)."),
            ("tests/test_store.py", "records written, the store registered by name."),
        ],
        "usage": (
            "## Use\n\n```python\nfrom gluellm import GlueLLM\n"
            "from {module}.store import {class_name}\n\n"
            'client = GlueLLM(eval_store={class_name}("records.jsonl"))\n```\n\n'
            'The store is also registered as `"{name}"` (`runtime.eval_stores`).\n'
        ),
    },
    Kind.workflow: {
        "description": "A GlueLLM workflow '{name}': draft, then refine.",
        "dependencies": ["gluellm"],
        "test_dependencies": [],
        "layout": [
            ("src/{module}/workflow.py", "`{class_name}`: a `Workflow` (execute)."),
            ("tests/test_workflow.py", "its steps over a scripted transport; registered."),
        ],
        "usage": (
            "## Use\n\n```python\nfrom {module}.workflow import {class_name}\n\n"
            'result = await {class_name}(model="openai:gpt-4o-mini").execute("a topic")\n'
            "```\n\n"
            'The workflow is also registered as `"{name}"` (`runtime.workflows`).\n'
        ),
    },
}


def _names(name: str, kind: Kind) -> dict[str, Any]:
    """Every name the templates use, derived from the plugin's name."""
    module = "gluellm_plugins_" + name.replace("-", "_")
    suffix = {
        Kind.transport: "Transport",
        Kind.middleware: "Middleware",
        Kind.store: "Store",
        Kind.workflow: "Workflow",
    }[kind]
    class_name = "".join(part.capitalize() for part in name.split("-")) + suffix
    names: dict[str, Any] = {
        "name": name,
        "kind": kind.value,
        "module": module,
        "distribution": "gluellm-plugins-" + name,
        "class_name": class_name,
        "prefix": name.upper().replace("-", "_"),
    }
    spec = _KINDS[kind]
    names["description"] = spec["description"].format(**names)
    names["dependencies"] = spec["dependencies"]
    names["test_dependencies"] = spec["test_dependencies"]
    names["layout"] = [
        (path.format(**names), what.format(**names)) for path, what in spec["layout"]
    ]
    names["usage"] = spec["usage"].format(**names)
    return names


def _templates(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(relative path, template text) of every ``.j2`` file under ``folder``."""
    for entry in sorted(folder.iterdir(), key=lambda entry: entry.name):
        path = f"{prefix}{entry.name}"
        if entry.is_dir():
            yield from _templates(entry, path + "/")
        elif entry.name.endswith(".j2"):
            yield path.removesuffix(".j2"), entry.read_text(encoding="utf-8")


def render(name: str, kind: Kind) -> dict[str, str]:
    """The files of a new plugin project: relative path -> content.

    Args:
        name: The plugin's name (lowercase words joined by hyphens).
        kind: What the plugin does.

    Raises:
        ValueError: ``name`` is not a valid plugin name.
    """
    if not NAME.match(name):
        raise ValueError(
            f"{name!r} is not a plugin name: use lowercase letters and digits, words joined "
            "by hyphens, starting with a letter (for example: demo, my-cache)."
        )
    import jinja2

    names = _names(name, kind)
    environment = jinja2.Environment(
        keep_trailing_newline=True, undefined=jinja2.StrictUndefined, autoescape=False
    )
    root = resources.files("gluellm.cli").joinpath("templates")
    files: dict[str, str] = {}
    module_init = f"src/{names['module']}/__init__.py"
    for folder, target in (("common", ""), (kind.value, "")):
        for path, text in _templates(root.joinpath(folder), target):
            if folder == "common" and path == "__init__.py":
                path = module_init
            path = path.replace("__module__", names["module"])
            files[path] = environment.from_string(text).render(**names)
    return files


def write(name: str, kind: Kind, parent: Path) -> Path:
    """Write a new plugin project into ``parent/gluellm-plugins-NAME``; return its path.

    Raises:
        ValueError: ``name`` is invalid.
        FileExistsError: The project's folder exists already.
    """
    files = render(name, kind)
    project = parent / f"gluellm-plugins-{name}"
    if project.exists():
        raise FileExistsError(f"{project} exists already: choose another name or folder.")
    for path, content in files.items():
        target = project / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return project


def register(app: typer.Typer) -> None:
    """Add the ``new-plugin`` command to ``app``."""

    @app.command("new-plugin")
    def new_plugin(
        name: Annotated[str, typer.Argument(help="Plugin name: lowercase, words joined by -.")],
        kind: Annotated[Kind, typer.Option("--kind", "-k", help="What the plugin does.")] = (
            Kind.transport
        ),
        directory: Annotated[
            Path, typer.Option("--directory", "-d", help="Where to create the project.")
        ] = Path("."),
    ) -> None:
        """Create an installable plugin project whose tests pass as generated."""
        try:
            project = write(name, kind, directory)
        except (ValueError, FileExistsError) as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from error
        typer.echo(f"Created {project} ({kind.value} plugin '{name}'). Next:")
        typer.echo(f"  cd {project}")
        typer.echo('  pip install -e ".[test]"')
        typer.echo("  pytest")
