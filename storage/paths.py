"""Where a batch's files live. One folder per batch under the run root:

    <run_root>/<batch>/clips/<job>.mp4            accepted clips (+ <job>.json sidecar, <job>.png poster)
    <run_root>/<batch>/jobs/<job>/input.png       the prepared input image
    <run_root>/<batch>/jobs/<job>/attempt-<n>/    per-attempt intermediates and the attempt's MP4
    <run_root>/<batch>/index.html, report.json    the gallery and the machine-readable report

The published files (clips, posters, sidecars, input images, attempt MP4s, the report and the
gallery) go to the artifact store (storage/artifacts.py) under the same relative names; by
default the store is the run root itself. Intermediates stay in the run root.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BatchPaths:
    root: Path

    @classmethod
    def for_batch(cls, run_root: str | Path, batch_name: str) -> "BatchPaths":
        """The batch's folder: one plain folder under the run root. A name from a database row,
        a command's argument or a poller's setting such as `../x`, `a/b` or `/x` would make
        every path of the batch point elsewhere, so it is refused (a ValueError, one line)."""
        root = Path(run_root).expanduser().resolve()
        if batch_name in ("", ".", "..") or Path(batch_name).name != batch_name or "\\" in batch_name:
            raise ValueError(f"batch name {batch_name!r} would leave the run root {root}: a batch is one "
                             "folder under it")
        return cls(root / batch_name)

    @property
    def clips(self) -> Path:
        return self.root / "clips"

    def job_dir(self, job_id: str) -> Path:
        return self.root / "jobs" / job_id

    def attempt_dir(self, job_id: str, attempt_number: int) -> Path:
        return self.job_dir(job_id) / f"attempt-{attempt_number}"

    def clip(self, job_id: str) -> Path:
        return self.clips / f"{job_id}.mp4"

    def relative(self, path: str | Path) -> str:
        """`path`'s name inside the batch folder: where the artifact store keeps its copy."""
        return Path(path).resolve().relative_to(self.root).as_posix()
