"""What every clipmill command shares when it talks to a person."""
from __future__ import annotations

from typing import NoReturn

import typer


def fail(message: object, code: int = 2) -> NoReturn:
    """A bad input ends a command with one readable line on stderr and exit status 2, never a
    traceback: the person needs to know what to fix, not where the code noticed."""
    typer.secho(f"error: {' '.join(str(message).split())}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=code)
