"""System prompts rendered with Jinja2: instructions and tools wrapped in XML."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    import jinja2

BASE_SYSTEM_PROMPT = """\
<system_prompt>
    <system_instructions>
        {{ instructions }}
    </system_instructions>
{%- if tools %}
    <tools>
{%- for tool in tools %}
        <tool>
            <name>{{ tool.name }}</name>
            <description>{{ tool.description }}</description>
        </tool>
{%- endfor %}
    </tools>
{%- endif %}
</system_prompt>"""
"""The template every system prompt is rendered with."""


@cache
def _template() -> jinja2.Template:
    import jinja2

    # Prompts are read by a model, not parsed as XML: escaping would change the text.
    environment = jinja2.Environment(autoescape=False, keep_trailing_newline=False)
    return environment.from_string(BASE_SYSTEM_PROMPT)


def _describe(tool: Any) -> dict[str, str]:
    name = getattr(tool, "name", None) or getattr(tool, "__name__", None) or repr(tool)
    description = getattr(tool, "description", None) or inspect.getdoc(tool) or ""
    return {"name": str(name), "description": str(description).strip()}


class SystemPrompt(BaseModel):
    """A system prompt's instructions; rendered with the tools it may use."""

    content: str

    def to_formatted_string(self, tools: Sequence[Callable[..., Any] | Any] | None = None) -> str:
        """Render the prompt as XML listing ``tools`` by name and description."""
        return _template().render(
            instructions=self.content, tools=[_describe(tool) for tool in tools or ()]
        )
