"""GlueLLM plugin: cost estimates from the genai-prices database.

Installing the distribution is enough: its ``estimate_cost`` hook prices every model
turn and embedding request whose model genai-prices knows. Prices set by the user in
``GLUELLM_MODEL_PRICES`` still win.
"""

from gluellm_plugins_prices.pricing import price_usd, provider_id

__all__ = ["price_usd", "provider_id"]
