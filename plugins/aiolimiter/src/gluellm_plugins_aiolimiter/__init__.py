"""GlueLLM plugin: Transparent rate limiting and API-key pools (aiolimiter)."""
