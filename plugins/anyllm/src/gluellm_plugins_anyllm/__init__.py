"""GlueLLM plugin: Transport for every provider any-llm-sdk reaches (OpenAI, Anthropic, xAI, local servers)."""
