"""Cost estimates and budgets.

Every model turn's cost is estimated once, when the turn finishes: first from the
prices the user set in ``GLUELLM_MODEL_PRICES`` (USD per million tokens, by model),
then through the ``estimate_cost`` hook (the ``gluellm-plugins-prices`` plugin answers
from the genai-prices database; a plugin of your own can price self-hosted or
negotiated models). A model nobody can price costs ``None`` (logged at DEBUG, once per
model and process), never an error.

A `Budget` bounds what a run (and every run nested in it) may spend: the tool loop
checks it before each model turn and stops with `BudgetExceededError`, which carries
the partial result, once the spending has reached the limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from gluellm.call import Usage
from gluellm.hook_calls import first_result

if TYPE_CHECKING:
    from gluellm.config import ModelPrice
    from gluellm.runs import RunRequest
    from gluellm.runtime import Runtime


@attrs.frozen(kw_only=True)
class Budget:
    """A spending limit for a run: cost, tokens, or both.

    Attributes:
        max_cost_usd: Stop once the estimated cost reaches this many US dollars.
            Turns whose price is unknown count as free.
        max_tokens: Stop once this many tokens (prompt plus completion) were used.
    """

    max_cost_usd: float | None = None
    max_tokens: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.max_cost_usd is not None and self.max_cost_usd < 0:
            raise ValueError("Budget.max_cost_usd must be zero or more.")
        if self.max_tokens is not None and self.max_tokens < 0:
            raise ValueError("Budget.max_tokens must be zero or more.")

    def exceeded_by(self, usage: Usage | None, cost: float | None) -> str | None:
        """Why spending ``usage`` and ``cost`` has reached this budget, or None."""
        if self.max_cost_usd is not None and (cost or 0.0) >= self.max_cost_usd:
            return f"cost ${cost or 0.0:.6f} reached the budget of ${self.max_cost_usd:.6f}"
        tokens = usage.total_tokens if usage is not None else 0
        if self.max_tokens is not None and tokens >= self.max_tokens:
            return f"{tokens} tokens reached the budget of {self.max_tokens} tokens"
        return None


def check_budget(run: RunRequest | None) -> tuple[RunRequest, str] | None:
    """The first run (innermost out) whose budget is spent, with the reason; else None."""
    while run is not None:
        if run.budget is not None:
            reason = run.budget.exceeded_by(run.stats.usage, run.stats.estimated_cost_usd)
            if reason is not None:
                return run, reason
        run = run.parent
    return None


def price_cost(price: ModelPrice, usage: Usage) -> float:
    """What ``usage`` costs at ``price`` (USD per million tokens)."""
    return (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1_000_000


def estimate_cost(
    runtime: Runtime, model: str, provider: str, usage: Usage | None, operation: str = "chat"
) -> float | None:
    """The estimated cost in USD of ``usage`` on ``model``, or None when unknown.

    Args:
        runtime: Where user prices (settings) and pricing plugins come from.
        model: The model string (``provider:model``).
        provider: The provider part of ``model``.
        usage: The tokens used; None costs None.
        operation: ``chat`` or ``embedding``.
    """
    if usage is None:
        return None
    user_price = runtime.settings.price_for(model)
    if user_price is not None:
        return price_cost(user_price, usage)
    if not runtime.implements("estimate_cost"):
        return None
    # A pricing plugin that raises is logged and skipped; the next one is asked.
    cost: float | None = first_result(
        runtime.plugin_manager,
        "estimate_cost",
        model=model,
        provider=provider,
        usage=usage,
        operation=operation,
        runtime=runtime,
    )
    if cost is None and model not in _unpriced_models:
        # Once per model: a line per call filled log files and cost more than the call.
        _unpriced_models.add(model)
        from loguru import logger

        logger.debug(
            "no price known for model {}; its cost is reported as None (said once per model)",
            model,
        )
    return cost


_unpriced_models: set[str] = set()
"""Models whose missing price was logged already."""
