"""A weights file whose unpickling runs code: it creates a marker file. Tests assert the
marker never appears when such a file is refused."""
from __future__ import annotations

import builtins
from pathlib import Path


class CreatesMarker:
    """Unpickled, calls open(marker, "w"): the file appearing proves the pickle ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.open, (self.marker, "w")


def write_hostile_checkpoint(path: Path, marker: Path) -> Path:
    """A torch.save archive, as a .pt from a stranger would be, carrying the payload."""
    import torch

    torch.save({"model": CreatesMarker(marker), "train_args": {}}, path)
    return path
