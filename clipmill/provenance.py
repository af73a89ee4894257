"""What an attempt needs to be made again exactly, and what differs when it is made again.

Recorded with every attempt: the prompts actually sent, the negative prompt, the plan, the
seed and every parameter, the model's source and a fingerprint of its weights, and the
versions of the software that shaped the frames. `clipmill rerun` reads it back.
"""
from __future__ import annotations

import functools
import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

from clipmill.storage.user_files import read_user_bytes

PACKAGES = ("clipmill", "torch", "diffusers", "transformers", "numpy", "opencv-python-headless")


def software_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


@functools.lru_cache(maxsize=16)
def weights_fingerprint(source: str) -> str:
    """A cheap identity of a weights folder or file: every file's name and size, and the bytes of
    its small config files (hashing gigabytes of weights at every load would cost minutes).
    A hub id or a built-in model is its own identity."""
    path = Path(source).expanduser()
    if not path.exists():
        return source
    digest = hashlib.sha256()
    files = sorted(p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file())
    for file in files:
        digest.update(f"{file.relative_to(path.parent if path.is_file() else path)}:{file.stat().st_size}\n".encode())
        if file.suffix in (".json", ".txt", ".yaml", ".model") and file.stat().st_size < 2**20:
            digest.update(read_user_bytes(file, kind="config"))
    return f"sha256:{digest.hexdigest()[:32]}"


def differences(recorded: dict, current: dict) -> list[str]:
    """What differs between the recorded reproduction and now, one sentence each."""
    found = []
    for package, then in sorted((recorded.get("versions") or {}).items()):
        now = (current.get("versions") or {}).get(package)
        if now != then:
            found.append(f"{package} {then} then, {now} now")
    for key in ("model_source", "weights", "device"):
        if recorded.get(key) != current.get(key):
            found.append(f"{key.replace('_', ' ')}: {recorded.get(key)} then, {current.get(key)} now")
    return found


def canonical(record: dict) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
