"""Loaded by a `.pth` file in the suites' venvs (scripts/peer-suites writes it): in every
Python process of the venv started with FACTORY_PEER_SUITE set, the adapter is installed
before anything else runs. That covers what the suites start as separate processes: the
`copier` command the prompt tests spawn through pexpect (`python -m copier`), the venv's
`copier` script (COPIER_CMD), `python -m cookiecutter.cli`. Those processes keep their own
stdin, stdout and stderr for factory (interactive); the pytest plugin switches the pytest
process itself to captured output."""

import os

SUITE = os.environ.get("FACTORY_PEER_SUITE", "")
if SUITE == "copier":
    try:
        import factory_peer_copier

        factory_peer_copier.install(interactive=True)
    except ImportError:
        pass  # a Python without copier (factory's own extension helper, say)
elif SUITE == "cookiecutter":
    try:
        import factory_peer_cookiecutter

        factory_peer_cookiecutter.install(interactive=True)
    except ImportError:
        pass
