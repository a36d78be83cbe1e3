"""env.example names every core setting, and only real ones; plugin settings come last."""

import re
from pathlib import Path

from gluellm.config import Settings

ENV_EXAMPLE = Path(__file__).parents[2] / "env.example"
PLUGIN_SECTION = "# --- Settings of individual plugins"
NAME = re.compile(r"^#? ?GLUELLM_([A-Z_]+)=", re.MULTILINE)


def core_section() -> str:
    return ENV_EXAMPLE.read_text().split(PLUGIN_SECTION, 1)[0]


def test_env_example_lists_every_core_setting():
    named = {m.lower() for m in NAME.findall(core_section())}
    plugin_vars = {"load_plugins", "disable_plugins", "strict_plugins", "trace_plugins"}
    assert named - plugin_vars == set(Settings.model_fields)


def test_plugin_settings_come_after_the_core_ones():
    assert PLUGIN_SECTION in ENV_EXAMPLE.read_text()
