"""The pluggy markers, kept apart so `from gluellm import hookimpl` stays cheap."""

import pluggy

PROJECT_NAME = "gluellm"
"""Pluggy project name and entry-point group."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
