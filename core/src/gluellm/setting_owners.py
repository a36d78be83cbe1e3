"""Settings that only a plugin reads: warn once when one is set but nothing reads it.

A setting the user set (in the environment, ``.env`` or ``Settings(...)``) whose plugin
is not loaded would otherwise be silently ignored. Plugins say which `Settings` fields
they read through the ``reads`` attribute of the settings class they register
(``register_settings``); for the spec's fields, this table names the package to install.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gluellm.config import Settings

OWNERS: dict[str, str] = {
    "retry_": "gluellm-plugins-stamina",
    "rate_limit_": "gluellm-plugins-aiolimiter",
    "eval_recording_": "gluellm-plugins-eval",
    "enable_tracing": "gluellm-plugins-telemetry",
    "mlflow_": "gluellm-plugins-telemetry",
}
"""Prefix of a `Settings` field -> the distribution whose plugin reads it."""


class UnreadSettingWarning(UserWarning):
    """A setting was set, but no loaded plugin reads it."""


_warned: set[str] = set()


def owner_of(field: str) -> str | None:
    """The distribution that reads ``field``, if a plugin does."""
    for prefix, distribution in OWNERS.items():
        if field.startswith(prefix):
            return distribution
    return None


def unread_settings(settings: Settings, read: set[str]) -> dict[str, str]:
    """Fields the user set that no loaded plugin reads -> the package to install."""
    defaults = type(settings).model_fields
    unread = {}
    for field in settings.model_fields_set:
        distribution = owner_of(field)
        if distribution is None or field in read:
            continue
        if getattr(settings, field) == defaults[field].get_default(call_default_factory=True):
            continue  # set to what it would be anyway: nothing is lost
        unread[field] = distribution
    return unread


def warn_unread(settings: Settings, read: set[str]) -> None:
    """Warn once per field about settings set but read by no loaded plugin."""
    for field, distribution in sorted(unread_settings(settings, read).items()):
        if field in _warned:
            continue
        _warned.add(field)
        warnings.warn(
            f"GLUELLM_{field.upper()} is set, but no installed plugin reads it, so it has "
            f"no effect. Install the plugin with: pip install {distribution}",
            UnreadSettingWarning,
            stacklevel=3,
        )
