"""Artifact paths and atomic file writes.

Every file clipmill produces is written to a temporary name in the destination folder and
renamed into place, so a crash or a cancelled run never leaves a half-written clip, image or
report where a reader (the gallery, the database, a resumed run) would take it for finished.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(path: str | os.PathLike) -> bool:
    """A URL with a scheme (s3://bucket/key), as opposed to a local path."""
    return isinstance(path, str) and bool(_URL.match(path))


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `dest`; rename it onto `dest` if the block succeeds.

    The temporary name keeps `dest`'s suffix so tools that pick a format by extension
    (ffmpeg, PIL, numpy) behave as they would on the final name.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=f".tmp{dest.suffix}", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            yield tmp
        except Exception as error:  # ffmpeg, numpy, PIL: a full disk is not always an OSError
            raise _disk_full(dest, error) or error
        # mkstemp makes the file 0600; a published file follows the umask like any other the
        # team writes, so a web server or another worker's account can read it.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


class DiskFullError(OSError):
    """A write failed because the disk is full; the message says where and how much is free."""

    def __str__(self) -> str:  # the one line a person reads, without OSError's "[Errno 28]"
        return self.strerror or super().__str__()


# Below this much free space a failed write is taken for a full disk: numpy and PIL report it
# as a bare OSError ("problem writing element 135168 to file") without the ENOSPC errno.
_NEARLY_FULL_BYTES = 16 * 2**20


def _disk_full(dest: Path, error: Exception) -> DiskFullError | None:
    if isinstance(error, DiskFullError):
        return None
    try:
        free = shutil.disk_usage(dest.parent).free
    except OSError:
        return None
    if getattr(error, "errno", None) in _FULL_ERRNOS or free < _NEARLY_FULL_BYTES:
        return DiskFullError(errno.ENOSPC, f"disk full: no space left writing {dest} ({free / 2**20:.1f} MiB free)")
    return None


_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
# SQLite's words for SQLITE_FULL: its file, journal or WAL could not grow.
_SQLITE_FULL = "database or disk is full"


def disk_full(error: BaseException | None, database: str | None = None) -> str | None:
    """The one line to show when `error`, or an error that led to it, is a full disk: a
    DiskFullError, ENOSPC or EDQUOT from the system, or SQLite's "database or disk is full"
    (`database`: its label, to name it). None for anything else."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, DiskFullError):
            return str(error)
        if isinstance(error, OSError) and error.errno in _FULL_ERRNOS:
            where = f" writing {error.filename}" if error.filename else ""
            return f"disk full: {error.strerror or 'no space left on device'}{where}"
        if _SQLITE_FULL in str(getattr(error, "orig", None) or error):
            return f"disk full: the database {database or ''} cannot be written ({_SQLITE_FULL})".replace("  ", " ")
        error = error.__cause__ or error.__context__
    return None


def _umask() -> int:
    # Linux shows it without changing it; os.umask() both reads and sets it, racing other threads.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


STALE_TEMPORARY = ".*.tmp*"  # what atomic_path leaves behind when its process is killed


def remove_stale_temporaries(folder: str | os.PathLike) -> int:
    """Delete temporary files a killed process left under `folder`; returns how many.
    Call only on a folder no live process writes to (a job this run has claimed)."""
    removed = 0
    for leftover in Path(folder).rglob(STALE_TEMPORARY):
        if leftover.is_file():
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed


def atomic_write_bytes(dest: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)
    return Path(dest)


def atomic_write_text(dest: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(dest, text.encode("utf-8"))


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()
