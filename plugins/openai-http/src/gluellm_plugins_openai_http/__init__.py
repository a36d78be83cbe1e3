"""GlueLLM plugin: a lean transport for OpenAI-compatible endpoints (aiohttp + orjson).

Nothing is imported here: the entry point loads ``plugin.py``, which registers the
transport; aiohttp and orjson load when the first call is prepared, in a worker thread.
"""
