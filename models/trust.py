"""Which weights files may be loaded: a file that can run code when loaded must be pinned.

A YOLO .pt file is a pickle that ultralytics loads with `torch.load(weights_only=False)`: loading
one runs whatever its author put in it. So does any other pickle-based checkpoint in a loader
less careful than open_clip's. A path in a batch spec is not enough to trust a file: the file
must have the sha256 someone wrote down, either in the spec (`models.trusted_weights`, keyed by
the path as the spec writes it) or in a registry file (YAML, path -> sha256) that
`$CLIPMILL_TRUSTED_WEIGHTS` names. safetensors files hold only tensors and need no pin.

No torch here: the check runs before any loader is imported, and preflight can use it alone.

Limit: the file is hashed, then opened again by the loader; a process that can rewrite the
file in between could still swap it. The pin is against files that are not what someone chose,
not against a writer racing the loader on the same machine.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from clipmill.storage.user_files import UserFileError, read_user_text, user_file_sha256

TRUSTED_WEIGHTS_ENV = "CLIPMILL_TRUSTED_WEIGHTS"
# Formats whose loaders read tensors only and never unpickle.
# Files that hold tensors and operators only: safetensors, and the protobuf graphs of ONNX and
# TensorFlow (OpenCV DNN and onnxruntime parse them; neither runs code from them).
NO_CODE_SUFFIXES = (".safetensors", ".onnx", ".pb", ".pbtxt")
_SHA256 = re.compile(r"(?i:sha256:)?([0-9a-f]{64})", re.IGNORECASE)


class UntrustedWeightsError(ValueError):
    """A weights file that is not pinned, or not the pinned file. A bad input, never retried.

    Attributes:
        path: The file as it was named.
        sha256: What the file actually hashes to.
        pinned: The sha256 it was pinned to, or None when nothing pins it.
    """

    def __init__(self, message: str, *, path: str, sha256: str, pinned: str | None = None,
                 what: str = "weights file") -> None:
        super().__init__(message)
        self.path = path
        self.sha256 = sha256
        self.pinned = pinned
        self.what = what

    def command_line_message(self, option: str = "--trust-sha256") -> str:
        """The same refusal, with the pin a command-line user gives: `option SHA`."""
        if self.pinned is not None:
            return (f"{self.what} {self.path} has sha256 {self.sha256}, not the pinned {self.pinned}: refused "
                    f"(pass {option} {self.sha256} only if you trust this file)")
        return (f"{self.what} {self.path} (sha256 {self.sha256}) is not pinned, and loading it could run code "
                f"from the file: refused. If you trust it, pass {option} {self.sha256} "
                f"(or pin it in the YAML registry ${TRUSTED_WEIGHTS_ENV} names)")


class TrustRegistryError(ValueError):
    """The registry file `$CLIPMILL_TRUSTED_WEIGHTS` names cannot be used; the message says why."""


def normalise_sha256(value: str) -> str:
    """A sha256 as 64 lowercase hex digits; "sha256:" in front is accepted. ValueError otherwise."""
    match = _SHA256.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(f"{value!r} is not a sha256 (64 hex digits, optionally after 'sha256:')")
    return match.group(1).lower()


def needs_pin(path: str | Path) -> bool:
    """Whether loading `path` could run code: every file but safetensors."""
    return not str(path).lower().endswith(NO_CODE_SUFFIXES)


def file_sha256(path: str | Path) -> str:
    """The file's sha256, remembered while its size, mtime and inode stay the same (a 600 MB
    checkpoint is checked at every load, and hashing it costs a second or two). Read through
    storage.user_files: a FIFO or a device named as weights is refused (UserFileError, a
    ValueError) instead of blocking or reading forever."""
    return user_file_sha256(path, kind="weights")


def _same_file(key: str, resolved: Path, base: Path | None = None) -> bool:
    candidate = Path(key).expanduser()
    if base is not None and not candidate.is_absolute():
        candidate = base / candidate
    try:
        return candidate.resolve() == resolved
    except (OSError, RuntimeError):
        return False


def load_registry(path: str | Path) -> dict[Path, str]:
    """The pins of a registry file: YAML mapping a weights path (relative paths: from the
    registry's folder) to its sha256. Raises TrustRegistryError with one line."""
    import yaml

    registry = Path(path).expanduser()
    try:
        data = yaml.safe_load(read_user_text(registry, kind="config", encoding="utf-8"))
    except UserFileError as error:
        raise TrustRegistryError(f"{TRUSTED_WEIGHTS_ENV}={path}: cannot read it ({error.problem})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise TrustRegistryError(f"{TRUSTED_WEIGHTS_ENV}={path}: not valid YAML ({' '.join(str(error).split())})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TrustRegistryError(f"{TRUSTED_WEIGHTS_ENV}={path}: must be a mapping of weights path -> sha256")
    pins: dict[Path, str] = {}
    for key, value in data.items():
        try:
            sha = normalise_sha256(value)
        except ValueError as error:
            raise TrustRegistryError(f"{TRUSTED_WEIGHTS_ENV}={path}: entry {key!r}: {error}") from None
        candidate = Path(str(key)).expanduser()
        pins[(candidate if candidate.is_absolute() else registry.parent / candidate).resolve()] = sha
    return pins


def _pins_for(named: str, resolved: Path, trusted: Mapping[str, str] | None) -> list[tuple[str, str]]:
    """Every (sha256, where it was written) that pins this file."""
    found = []
    for key, value in (trusted or {}).items():
        if key == named or _same_file(key, resolved):
            found.append((normalise_sha256(value), "the spec's models.trusted_weights"))
    registry = os.environ.get(TRUSTED_WEIGHTS_ENV)
    if registry:
        pinned = load_registry(registry).get(resolved)
        if pinned is not None:
            found.append((pinned, f"{TRUSTED_WEIGHTS_ENV}={registry}"))
    return found


def require_trusted(path: str | Path, trusted: Mapping[str, str] | None = None, *, what: str = "weights file") -> str:
    """Refuse `path` unless a pin for it matches its sha256; return the sha256.

    Args:
        path: The file as the spec or the command line names it.
        trusted: Pins given with the request (a spec's `models.trusted_weights`): the path as
            written, or any path to the same file -> sha256. Pins in the registry file named by
            `$CLIPMILL_TRUSTED_WEIGHTS` count too.
        what: How the message names the file ("YOLO weights", "CLIP checkpoint").

    Raises:
        UntrustedWeightsError: Nothing pins the file, or no pin matches; the message says
            which file, its sha256 and how to pin it.
        TrustRegistryError: The registry file is unreadable or malformed.
    """
    named = str(path)
    resolved = Path(path).expanduser().resolve()
    actual = file_sha256(resolved)
    pins = _pins_for(named, resolved, trusted)
    if any(sha == actual for sha, _ in pins):
        return actual
    if pins:
        pinned, where = pins[0]
        raise UntrustedWeightsError(
            f"{what} {named} has sha256 {actual}, not the {pinned} pinned in {where}: refused, it is not the file "
            f"that was pinned (pin the new sha256 only if you trust the new file)",
            path=named, sha256=actual, pinned=pinned, what=what)
    raise UntrustedWeightsError(
        f"{what} {named} (sha256 {actual}) is not pinned, and loading it could run code from the file: refused. "
        f"If you trust it, pin it in the spec (models: trusted_weights: {{{named!r}: {actual}}}) or in the "
        f"YAML registry that ${TRUSTED_WEIGHTS_ENV} names ({str(resolved)!r}: {actual})",
        path=named, sha256=actual, what=what)


def command_line_pins(files: Iterable[str | None], shas: Iterable[str]) -> dict[str, str]:
    """Pins for the files one command names, from its `--trust-sha256` values (any order):
    each existing file that needs a pin is pinned to the given sha256 it has, else to the first
    given (so the refusal says which sha256 was expected). ValueError for a malformed sha256."""
    given = [normalise_sha256(sha) for sha in shas]
    pins: dict[str, str] = {}
    if not given:
        return pins
    for name in files:
        if not name or not Path(name).expanduser().is_file() or not needs_pin(name):
            continue
        actual = file_sha256(Path(name).expanduser())
        pins[name] = actual if actual in given else given[0]
    return pins
