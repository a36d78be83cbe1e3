"""GlueLLM telemetry plugin."""
