"""With every distribution installed, `gluellm plugins --json` lists the first-party plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys

FIRST_PARTY = {
    "mock": "gluellm-plugins-mock",
    "anyllm": "gluellm-plugins-anyllm",
    "stamina": "gluellm-plugins-stamina",
    "aiolimiter": "gluellm-plugins-aiolimiter",
    "redis": "gluellm-plugins-redis",
    "prices": "gluellm-plugins-prices",
}


def _plugins_json(**env: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "gluellm.cli", "plugins", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=True,
    )
    return json.loads(proc.stdout)


def test_first_party_plugins_are_listed_with_their_hooks():
    payload = _plugins_json()
    listed = {p["name"]: p for p in payload["plugins"]}
    for name, distribution in FIRST_PARTY.items():
        assert name in listed, f"{name} missing from {sorted(listed)}"
        assert listed[name]["distribution"] == distribution
        assert listed[name]["version"]
        assert listed[name]["hooks"], f"{name} implements no hook"
    assert payload["load_errors"] == []


def test_empty_load_plugins_lists_none():
    assert _plugins_json(GLUELLM_LOAD_PLUGINS="") == {"plugins": [], "load_errors": []}


def test_the_demo_runs_offline():
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    proc = subprocess.run(
        [sys.executable, "-m", "gluellm.cli", "demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "offline test model" in proc.stdout
    assert "get_weather" in proc.stdout
    assert "Earlier you said: 'My favorite color is blue.'" in proc.stdout
