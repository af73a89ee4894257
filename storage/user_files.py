"""Reading a file a user named: a job's image, a keyword or word list, a template, a spec, a
weights file to pin. One way, used for all of them.

A path in a batch spec or on a command line can name anything. A FIFO makes `open()` wait for
a writer that never comes (the process sleeps in `wait_for_partner`, and the batch with it); a
symlink to /dev/zero reads forever at full CPU; a directory or a socket cannot be read at all;
a 40 GB file named as a photo would be hashed for minutes. So every such read here:

- refuses anything that is not a regular file (following symlinks to what they name) before
  opening it, with one line naming the path and what it is;
- opens with O_NONBLOCK, so a FIFO swapped in after the check cannot block the open, and
  checks the opened descriptor again (`fstat`), so a swap between check and open is caught;
- refuses a file over its kind's size limit before reading a byte, and never reads more than
  the limit even if the file grows while it is read;
- hashes a file once per process: the digest is kept under the file's (device, inode, size,
  mtime_ns), so the job version computed three times a run reads the image once.

No Prefect, no third-party imports: every layer may use it.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

# Size limits per kind of file, before anything is read. Generous for what each kind really is,
# small enough that a wrong file costs a refusal instead of memory, disk reads or minutes.
SIZE_LIMITS: dict[str, int] = {
    "image": 50 * 2**20,  # a 50-megapixel JPEG is ~25 MB; a PNG of one can be twice that
    "text": 2 * 2**20,  # keyword lists, brand-safety word lists, prompt files
    "template": 1 * 2**20,  # a prompt template is a few hundred bytes of YAML
    "spec": 16 * 2**20,  # a batch spec of tens of thousands of jobs
    "config": 1 * 2**20,  # small model config files (class maps, tokenizer configs)
    "credentials": 1 * 2**20,  # PEM certificates and keys
    "weights": 80 * 2**30,  # the largest single checkpoint a loader may be handed
}

# O_NONBLOCK: opening a FIFO for reading would otherwise wait, forever, for a writer. It changes
# nothing for a regular file, the only thing ever read after the open. O_NOCTTY: a terminal
# device must never become the process's controlling terminal just by being named.
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
_CHUNK = 4 * 2**20
_MAX_REMEMBERED_DIGESTS = 4096

_digests: dict[tuple[int, int, int, int], str] = {}
_digests_lock = threading.Lock()


class UserFileError(ValueError):
    """A named file that cannot be used; the one-line message names the path and the problem.

    A ValueError, so the flows take it for a bad input: it ends its own job, recorded, and is
    never retried."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = str(path)
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.path}: {self.problem}")


def size_limit(kind: str) -> int:
    try:
        return SIZE_LIMITS[kind]
    except KeyError:
        raise ValueError(f"unknown kind of file {kind!r}; known: {', '.join(SIZE_LIMITS)}") from None


def what_it_is(mode: int) -> str:
    """A person's name for a file type that is not a regular file."""
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "an unknown kind of file"


def _size_text(size: int) -> str:
    if size >= 2**30:
        return f"{size / 2**30:.1f} GiB"
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size} bytes"


def _limit_text(size: int) -> str:
    return _size_text(size) if size >= 2**20 else f"{size}-byte"


def _refuse_unless_usable(named: Path, info: os.stat_result, kind: str, limit: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        target = os.path.realpath(named)
        via = f" (the symlink leads to {target})" if target != os.path.abspath(named) else ""
        raise UserFileError(named, f"is {what_it_is(info.st_mode)}{via}, not a regular file; "
                                   f"give a regular {kind} file")
    if info.st_size > limit:
        raise UserFileError(named, f"file is {_size_text(info.st_size)}, over the {_limit_text(limit)} "
                                   f"limit for {kind} files")


def _os_problem(error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return "file not found"
    if isinstance(error, PermissionError):
        return "permission denied"
    return f"cannot read ({error.strerror or error})"


def check_user_file(path: str | os.PathLike, *, kind: str, max_bytes: int | None = None) -> os.stat_result:
    """Refuse, without opening it, a path that is not a regular file of at most `max_bytes`
    (default: the kind's limit). For paths handed on to a library that opens them itself;
    read through `open_user_file` wherever clipmill reads the bytes."""
    named = Path(path).expanduser()
    limit = size_limit(kind) if max_bytes is None else max_bytes
    try:
        info = os.stat(named)  # follows symlinks: a link to /dev/zero is the device
    except OSError as error:
        raise UserFileError(named, _os_problem(error)) from None
    _refuse_unless_usable(named, info, kind, limit)
    return info


@contextlib.contextmanager
def open_user_file(path: str | os.PathLike, *, kind: str, max_bytes: int | None = None) -> Iterator[BinaryIO]:
    """The named regular file, opened for reading without ever blocking on the open.

    Raises UserFileError (one line) for a missing file, a special file (checked before the open
    and again on the opened descriptor) or one over the size limit."""
    named = Path(path).expanduser()
    limit = size_limit(kind) if max_bytes is None else max_bytes
    # Checked before the open as well as after: opening some devices does something by itself
    # (a tape rewinds, a modem line is raised), and the only safe device is one never opened.
    check_user_file(named, kind=kind, max_bytes=limit)
    try:
        descriptor = os.open(named, _OPEN_FLAGS)
    except OSError as error:
        raise UserFileError(named, _os_problem(error)) from None
    try:
        _refuse_unless_usable(named, os.fstat(descriptor), kind, limit)
        handle = os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
    with handle:
        yield handle


def _read_limited(handle: BinaryIO, named: Path, kind: str, limit: int) -> Iterator[bytes]:
    """The file's bytes in chunks, refusing a file that grows past the limit as it is read."""
    read = 0
    while True:
        try:
            chunk = handle.read(min(_CHUNK, limit + 1 - read))
        except OSError as error:
            raise UserFileError(named, _os_problem(error)) from None
        if not chunk:
            return
        read += len(chunk)
        if read > limit:
            raise UserFileError(named, f"file grew past the {_limit_text(limit)} limit for {kind} files while read")
        yield chunk


def read_user_bytes(path: str | os.PathLike, *, kind: str, max_bytes: int | None = None) -> bytes:
    """The whole named file, refused as `open_user_file` says."""
    named = Path(path).expanduser()
    limit = size_limit(kind) if max_bytes is None else max_bytes
    with open_user_file(named, kind=kind, max_bytes=limit) as handle:
        return b"".join(_read_limited(handle, named, kind, limit))


def read_user_text(path: str | os.PathLike, *, kind: str, max_bytes: int | None = None,
                   encoding: str = "utf-8-sig") -> str:
    """The named file as text (a UTF-8 byte-order mark is dropped); one line if it is not text."""
    data = read_user_bytes(path, kind=kind, max_bytes=max_bytes)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise UserFileError(Path(path).expanduser(), f"not {encoding.split('-sig')[0].upper()} text "
                                                     f"(byte {error.start} cannot be decoded)") from None


def user_file_sha256(path: str | os.PathLike, *, kind: str, max_bytes: int | None = None) -> str:
    """The named file's sha256, read once per process while it stays the same file: the digest
    is remembered under (device, inode, size, mtime_ns) of the opened file, so a replaced or
    rewritten file is hashed anew and an unchanged one is not hashed again."""
    named = Path(path).expanduser()
    limit = size_limit(kind) if max_bytes is None else max_bytes
    with open_user_file(named, kind=kind, max_bytes=limit) as handle:
        info = os.fstat(handle.fileno())
        key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
        with _digests_lock:
            known = _digests.get(key)
        if known is not None:
            return known
        digest = hashlib.sha256()
        for chunk in _read_limited(handle, named, kind, limit):
            digest.update(chunk)
        after = os.fstat(handle.fileno())
    if (after.st_size, after.st_mtime_ns) != (info.st_size, info.st_mtime_ns):
        return digest.hexdigest()  # written to while read: right for these bytes, not to remember
    with _digests_lock:
        if len(_digests) >= _MAX_REMEMBERED_DIGESTS:  # a long-lived worker: forget, don't grow
            _digests.clear()
        _digests[key] = digest.hexdigest()
    return _digests[key]
