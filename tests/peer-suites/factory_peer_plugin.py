"""pytest plugin (`-p factory_peer_plugin`, with this folder on PYTHONPATH) that makes
copier's or cookiecutter's own test suite drive factory (FACTORY_PEER_SUITE says which).

It patches the API before the test modules are imported, so `from copier import run_copy`
and `from cookiecutter.main import cookiecutter` bind the adapter's versions. Processes the
suites start themselves get the adapter from factory_peer_autoload (a `.pth` in the venv)."""

from __future__ import annotations

import os

SUITE = os.environ.get("FACTORY_PEER_SUITE", "")

if SUITE == "copier":
    import factory_peer_copier

    factory_peer_copier.install(interactive=False)
elif SUITE == "cookiecutter":
    import factory_peer_cookiecutter

    factory_peer_cookiecutter.install(interactive=False)
elif SUITE != "native":
    raise RuntimeError(f"FACTORY_PEER_SUITE must be copier, cookiecutter or native, not {SUITE!r}")
