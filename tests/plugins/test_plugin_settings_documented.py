"""Every setting an installed plugin declares is in env.example's plugin section, and only those."""

import re
from pathlib import Path

from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime

ENV_EXAMPLE = Path(__file__).parents[2] / "env.example"
PLUGIN_SECTION = "# --- Settings of individual plugins"
NAME = re.compile(r"^#? ?GLUELLM_([A-Z_]+)=", re.MULTILINE)
READ_FROM_ENVIRONMENT = {"anyllm_http_stack"}  # read directly, before any runtime exists


def test_every_declared_plugin_setting_is_in_env_example():
    section = ENV_EXAMPLE.read_text().split(PLUGIN_SECTION, 1)[1]
    named = {m.lower() for m in NAME.findall(section)}
    runtime = Runtime(create_plugin_manager())
    declared = {
        field for cls in runtime.settings_classes() for field in cls.model_fields
    } | READ_FROM_ENVIRONMENT
    assert declared == named
