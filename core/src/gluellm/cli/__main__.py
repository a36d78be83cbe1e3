"""``python -m gluellm.cli``."""

from gluellm.cli.app import main

main()
