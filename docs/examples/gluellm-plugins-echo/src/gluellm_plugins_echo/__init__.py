"""A GlueLLM plugin serving the ``echo`` provider."""
