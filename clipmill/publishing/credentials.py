"""C2PA content credentials: a signed manifest inside the MP4 that says how the clip was made.

Optional (`pip install 'clipmill[c2pa]'`, which brings c2pa-python). The manifest declares the
clip created by a trained algorithm (IPTC's `trainedAlgorithmicMedia`, the marking the EU AI
Act's Article 50 asks for in machine-readable form) and carries clipmill's record of it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clipmill.storage.files import atomic_path
from clipmill.storage.user_files import UserFileError, read_user_bytes

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
RECORD_ASSERTION = "org.clipmill.record"


class CredentialsError(RuntimeError):
    """Signing or reading content credentials failed; the message says why in one line."""


def _c2pa():
    try:
        import c2pa
    except ImportError:
        raise CredentialsError("C2PA needs c2pa-python: pip install 'clipmill[c2pa]'") from None
    return c2pa


def c2pa_available() -> bool:
    try:
        _c2pa()
    except CredentialsError:
        return False
    return True


def clip_manifest(*, title: str, model: str, record: dict[str, Any], generator: str = "clipmill",
                  generator_version: str | None = None, produce_id: str | None = None) -> dict:
    """A manifest definition for one clip: created by `model` through `generator`, with the
    clip's record (batch, job, attempt, seed, ProduceID...) as an assertion of its own."""
    if generator_version is None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            generator_version = version("clipmill")
        except PackageNotFoundError:
            generator_version = "0"
    agent = {"name": generator, "version": generator_version}
    data = {**record, "model": model}
    if produce_id:
        data["produce_id"] = produce_id
    return {
        "claim_generator_info": [agent],
        "title": title,
        "format": "video/mp4",
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [{
                "action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                "softwareAgent": agent, "parameters": {"model": model}}]}},
            {"label": RECORD_ASSERTION, "data": json.loads(json.dumps(data, default=str))},
        ],
    }


def sign_c2pa(mp4_path: str | Path, manifest: dict, cert: str | Path, key: str | Path, *, alg: str = "ES256",
              tsa_url: str | None = None, dest: str | Path | None = None) -> Path:
    """Sign `mp4_path` with `manifest`; writes `dest` (default: the file itself) atomically.

    `cert` is the PEM chain (signing certificate first), `key` its PEM private key. C2PA
    refuses a self-signed signing certificate: use one issued by a CA (a team CA will do;
    readers then report it untrusted until they are told to trust that CA).
    """
    c2pa = _c2pa()
    source, dest = Path(mp4_path), Path(dest or mp4_path)
    chain, private_key = _read_pem(cert, "certificate"), _read_pem(key, "key")
    try:
        algorithm = getattr(c2pa.C2paSigningAlg, alg.upper(), None)
        if algorithm is None:
            raise CredentialsError(f"C2PA signing algorithm {alg!r} unknown")
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(algorithm, chain, private_key, tsa_url))
        with signer, c2pa.Builder.from_json(json.dumps(manifest)) as builder, atomic_path(dest) as tmp:
            builder.sign_file(source, tmp, signer)
    except c2pa.C2paError as error:
        raise CredentialsError(f"C2PA signing of {source} failed: {_one_line(error)}") from None
    return dest


@dataclass(frozen=True)
class Credentials:
    """What a reader finds: the active manifest and how its validation went."""

    manifest: dict
    validation_state: str | None  # "Valid", "Trusted" or "Invalid"
    problems: list[str] = field(default_factory=list)  # validation failure codes ("signingCredential.untrusted")

    def assertion(self, label: str) -> Any:
        """The data of the assertion called `label` (a versioned label such as `c2pa.actions.v2` matches
        `c2pa.actions`); None when the manifest has none."""
        for item in self.manifest.get("assertions", []):
            name = item.get("label", "")
            if name == label or name.startswith(label + ".v"):
                return item.get("data")
        return None


def read_c2pa(path: str | Path) -> Credentials | None:
    """The content credentials of a file, or None when it carries none."""
    c2pa = _c2pa()
    try:
        reader = c2pa.Reader.try_create(str(path))
        if reader is None:
            return None
        with reader:
            store = json.loads(reader.json())
    except c2pa.C2paError as error:
        raise CredentialsError(f"C2PA reading of {path} failed: {_one_line(error)}") from None
    active = store.get("manifests", {}).get(store.get("active_manifest"), {})
    problems = [item.get("code", "") for item in store.get("validation_status") or []]
    return Credentials(manifest=active, validation_state=store.get("validation_state"), problems=problems)


def _read_pem(path: str | Path, what: str) -> bytes:
    path = Path(path).expanduser()
    if not path.is_file():
        raise CredentialsError(f"C2PA {what} file {path} not found")
    try:
        data = read_user_bytes(path, kind="credentials")  # swapped for a FIFO since the check: refused, not waited on
    except UserFileError as error:
        raise CredentialsError(f"C2PA {what} file {error}") from None
    if b"-----BEGIN" not in data:
        raise CredentialsError(f"C2PA {what} file {path} is not PEM")
    return data


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__
