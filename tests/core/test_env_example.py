"""env.example names every setting, and only real ones."""

import re
from pathlib import Path

from gluellm.config import Settings

ENV_EXAMPLE = Path(__file__).parents[2] / "env.example"


def test_env_example_lists_every_setting():
    text = ENV_EXAMPLE.read_text()
    named = {m.lower() for m in re.findall(r"^#? ?GLUELLM_([A-Z_]+)=", text, re.MULTILINE)}
    plugin_vars = {"load_plugins", "disable_plugins", "strict_plugins", "trace_plugins"}
    assert named - plugin_vars == set(Settings.model_fields)
