"""Settings, read from ``GLUELLM_*`` environment variables and a ``.env`` file.

``settings`` is the current value; `reload_settings` reads the environment again and
replaces it. GlueLLM reads ``gluellm.config.settings`` at call time, so a reload takes
effect on the next call.
"""

from __future__ import annotations

import os
from typing import ClassVar, Literal

from pydantic import BaseModel, Field, PrivateAttr, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class ModelPrice(BaseModel):
    """A model's price in US dollars per million tokens (``GLUELLM_MODEL_PRICES``)."""

    input: float = Field(ge=0)
    output: float = Field(default=0, ge=0)


class Settings(BaseSettings):
    """Every setting GlueLLM and its first-party plugins read."""

    model_config = SettingsConfigDict(
        env_prefix="GLUELLM_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Model defaults
    default_model: str = "openai:gpt-4o-mini"
    default_embedding_model: str = "openai/text-embedding-3-small"
    default_system_prompt: str = "You are a helpful assistant."
    # Seconds one attempt may take; a dead server must not hang a call for the SDK's
    # own default (10 minutes, times its retries).
    default_request_timeout: float | None = Field(default=120, gt=0)
    # Seconds one model call may take across all its attempts and retry waits.
    default_call_deadline: float | None = Field(default=600, gt=0)

    # Prices you set yourself, by model, in USD per million tokens; they win over the
    # pricing plugin. JSON: {"openai:gpt-4o-mini": {"input": 0.15, "output": 0.6}}
    model_prices: dict[str, ModelPrice] = Field(default_factory=dict)

    # Tool loop and structured output
    max_tool_iterations: int = Field(default=10, ge=1)
    structured_output_max_retries: int = Field(default=2, ge=0)

    # Retry (read by the retry plugin)
    retry_max_attempts: int = Field(default=3, ge=1)
    retry_min_wait: float = Field(default=2, ge=0)
    retry_max_wait: float = Field(default=30, ge=0)
    retry_multiplier: float = Field(default=1, ge=0)

    # Rate limiting (read by the rate-limit plugins)
    rate_limit_enabled: bool = True
    rate_limit_requests_per_minute: int = Field(default=60, ge=1)
    rate_limit_burst: int = Field(default=10, ge=1)
    rate_limit_backend: Literal["memory", "redis"] = "memory"
    rate_limit_redis_url: str = "redis://localhost:6379"

    # Logging (gluellm.logging_config)
    log_level: LogLevel = "INFO"
    log_file_level: LogLevel = "DEBUG"
    log_dir: str = "logs"
    log_file_name: str = "gluellm.log"
    log_json_format: bool = False
    log_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    log_backup_count: int = Field(default=5, ge=0)
    # True: GlueLLM never configures logging itself (no sink, no handler touched).
    disable_logging: bool = False

    # Evaluation recording (read by the eval plugin)
    eval_recording_enabled: bool = False
    eval_recording_path: str = "logs/eval_records.jsonl"

    # Tracing (read by the telemetry plugin)
    enable_tracing: bool = False
    mlflow_tracking_uri: str | None = None
    mlflow_experiment_name: str = "gluellm"

    # API keys; provider-specific variables (OPENAI_API_KEY ...) work too.
    openai_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    xai_api_key: SecretStr | None = None

    _env_api_keys: dict[str, str | None] = PrivateAttr(default_factory=dict)

    def price_for(self, model: str) -> ModelPrice | None:
        """The price the user set for ``model`` (``provider:model`` or ``provider/model``)."""
        if not self.model_prices:
            return None
        price = self.model_prices.get(model)
        if price is None:
            from gluellm.model_ids import split_model

            provider, name = split_model(model)
            price = self.model_prices.get(f"{provider}:{name}") or self.model_prices.get(
                f"{provider}/{name}"
            )
        return price

    def api_key_for(self, provider: str) -> str | None:
        """The ``GLUELLM_<PROVIDER>_API_KEY`` value for ``provider``, if set.

        Declared fields (``openai_api_key`` ...) are read as they are now, so a value
        assigned in code applies. Other providers' variables are read from the
        environment once, like every setting (`reload_settings` reads them again): this
        runs on every call, and an environment lookup costs microseconds.
        """
        field = f"{provider}_api_key"
        if field in _KEY_FIELDS:
            secret = getattr(self, field)
            return secret.get_secret_value() if isinstance(secret, SecretStr) else None
        # The private dict itself: `self._env_api_keys` goes through pydantic's slower
        # attribute hook on every call.
        cache: dict[str, str | None] = self.__pydantic_private__["_env_api_keys"]  # type: ignore[index]
        try:
            return cache[provider]
        except KeyError:
            key = cache[provider] = os.environ.get(f"GLUELLM_{provider.upper()}_API_KEY") or None
            return key


_KEY_FIELDS = frozenset(name for name in Settings.model_fields if name.endswith("_api_key"))
"""The providers' key settings `Settings` declares (``openai_api_key`` ...)."""


class PluginSettings(BaseSettings):
    """Base class for a plugin's own settings (``GLUELLM_`` prefix, ``.env``).

    Declare fields as on any pydantic-settings class, register the class through the
    ``register_settings`` hook, and read it with ``runtime.settings_for(MySettings)``.

    Attributes:
        reads: Names of `Settings` fields (the spec's) that the plugin reads; while no
            loaded plugin reads a field that the user set, GlueLLM warns once, naming
            the package to install.
    """

    model_config = SettingsConfigDict(
        env_prefix="GLUELLM_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    reads: ClassVar[tuple[str, ...]] = ()


settings = Settings()


def reload_settings() -> Settings:
    """Read the environment and ``.env`` again; return the new settings."""
    global settings
    settings = Settings()
    return settings


def get_settings() -> Settings:
    """The current settings (the latest `reload_settings` result)."""
    return settings
