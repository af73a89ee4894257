"""The `clipmill` command line: the entry points, and the only code besides deployments/ that
imports flows/. `clipmill.cli:app` is the console script (pyproject.toml)."""
from clipmill.cli.main import app

__all__ = ["app"]
