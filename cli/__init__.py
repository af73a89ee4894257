"""The `clipmill` command line: the entry points, and the only code besides deployments/ that
imports flows/. `clipmill.cli:app` is the console script (pyproject.toml)."""
import clipmill.prefect_env  # noqa: F401  (before anything imports Prefect)
from clipmill.cli.main import app

__all__ = ["app"]
