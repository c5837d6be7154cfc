"""What every ``svod`` command shares: the consoles, the --workspace option, failing clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

console = Console(stderr=True)  # progress, warnings, errors
out = Console()  # results

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace folder with svod.toml, inbox/, lake/ (default: $SVOD_WORKSPACE or data/).",
        show_default=False,
    ),
]


def fail(message: str) -> NoReturn:
    """Print an error for a person and exit with status 1."""
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code=1)
