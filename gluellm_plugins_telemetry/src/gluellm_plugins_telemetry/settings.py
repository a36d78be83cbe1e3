"""The telemetry plugin's settings.

Tracing itself is switched and pointed by the spec's core settings
(``GLUELLM_ENABLE_TRACING``, ``GLUELLM_MLFLOW_TRACKING_URI``,
``GLUELLM_MLFLOW_EXPERIMENT_NAME``) and the standard ``OTEL_*`` variables; this class
holds the knobs only this plugin has, and names the core fields it reads.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from gluellm.config import PluginSettings


class TelemetrySettings(PluginSettings):
    """Settings of ``gluellm-plugins-telemetry``.

    Attributes:
        capture_message_content: Record prompts, answers, tool arguments and tool
            results on spans (``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``,
            the GenAI conventions' opt-in switch). Off by default: content may hold
            personal data.
        mlflow_metrics: Log each model call's metrics and parameters to an MLflow run
            (``GLUELLM_MLFLOW_METRICS``); needs ``GLUELLM_MLFLOW_TRACKING_URI``.
    """

    model_config = SettingsConfigDict(
        env_prefix="GLUELLM_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    reads: ClassVar[tuple[str, ...]] = (
        "enable_tracing",
        "mlflow_tracking_uri",
        "mlflow_experiment_name",
    )

    capture_message_content: bool = Field(
        default=False,
        validation_alias=AliasChoices(
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
            "capture_message_content",
        ),
    )
    mlflow_metrics: bool = True
