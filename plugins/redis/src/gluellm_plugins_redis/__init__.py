"""GlueLLM plugin: Rate limits shared across processes and machines through Redis."""
