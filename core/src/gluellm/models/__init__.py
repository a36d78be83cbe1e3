"""The data models of the spec's public API (conversation, prompt, config, agent)."""
