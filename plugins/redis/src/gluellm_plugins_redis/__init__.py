"""GlueLLM plugin: Rate limits shared across processes and machines through Redis.

Set ``GLUELLM_RATE_LIMIT_BACKEND=redis`` and ``GLUELLM_RATE_LIMIT_REDIS_URL``; the hooks
live in `gluellm_plugins_redis.plugin` and the permit backend in
`gluellm_plugins_redis.backend` (imported on first use, with redis-py).
"""
