from gluellm.api import complete
from gluellm.plugins import create_plugin_manager
from gluellm.runtime import Runtime, use_runtime
from gluellm_plugins_echo import plugin


async def test_echo():
    manager = create_plugin_manager(load_entrypoints=False)
    manager.register(plugin)
    with use_runtime(Runtime(manager)):
        result = await complete("hi there", model="echo:any")
    assert result.final_response == "hi there"
    assert result.tokens_used == {"prompt": 2, "completion": 2, "total": 4}
