"""Extra ``svod`` commands: every module here defines ``register(app)`` and is loaded by the CLI.

One module per command family keeps ``pipelines/cli.py`` small and lets a command be added
without touching it.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer


def register_all(app: typer.Typer) -> None:
    """Call ``register(app)`` of every module in this package, in name order."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app)
