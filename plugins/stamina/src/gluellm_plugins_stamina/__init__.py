"""GlueLLM plugin: Retries with exponential backoff and jitter (stamina): the only retry layer."""
