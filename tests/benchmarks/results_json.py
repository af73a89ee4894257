"""How the benchmark scripts hand over their numbers: printed as JSON, and kept in a file."""
from __future__ import annotations

import json
from pathlib import Path


def emit(results: dict, path: Path | None, *, shown: dict | None = None) -> None:
    """Print `results` (or `shown`, a summary of them) as JSON; write them all to `path` if given."""
    print(json.dumps(results if shown is None else shown, indent=2), flush=True)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n")
