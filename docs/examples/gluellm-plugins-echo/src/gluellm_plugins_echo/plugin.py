"""Hook implementations: the ``echo`` provider. Nothing heavy is imported here."""

from gluellm import hookimpl


@hookimpl
def register_transports(register):
    def factory():
        from gluellm_plugins_echo.transport import EchoTransport

        return EchoTransport()

    register("echo", factory)
