"""From screened keywords to a batch spec: one job per keyword and template."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clipmill.planning import TEMPLATES, expand_template
from clipmill.spec import parse_spec
from clipmill.trending.keywords import Keyword

_SKELETON_FIELDS = {"description", "models", "defaults", "name", "jobs"}
# A poll's batch is `<prefix>-<date>-<time>-<id>` (21 characters after the prefix), and names a
# folder under the run root and a spec file beside its siblings: so the prefix is one plain
# path component, never `../x` or `a/b`, and the whole name fits the spec's 64 characters.
_NAME_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,42}")


def check_name_prefix(prefix: str) -> str:
    """`prefix` if it can start a batch name; a ValueError naming it otherwise."""
    if not isinstance(prefix, str) or not _NAME_PREFIX.fullmatch(prefix):
        raise ValueError(f"spec defaults: name {prefix!r} cannot start a batch name: use up to 43 letters, digits, "
                         "'.', '_' or '-', starting with a letter or digit (it names a folder under the run root)")
    return prefix


def job_id(keyword: Keyword, template: str, taken: Collection[str] = ()) -> str:
    """A spec-valid job id: the keyword's ASCII words, plus a short hash when those lose
    information (Chinese, punctuation, length) or collide with an id in `taken`."""
    words = re.findall(r"[a-z0-9]+", keyword.normalised.encode("ascii", "ignore").decode())
    slug = "-".join(words)[:32].strip("-")
    # The hash is of the normalised keyword, so the same keyword gets the same id every poll.
    digest = hashlib.sha1(keyword.normalised.encode("utf-8")).hexdigest()[:6]
    lossless = slug and slug == "-".join(keyword.normalised.split())
    stem = slug if lossless else "-".join(p for p in (slug or "kw", digest) if p)
    candidate = f"{stem}-{template[:20]}".strip("-.")
    if candidate in taken:
        candidate = f"{slug or 'kw'}-{digest}-{template[:20]}"
    return candidate[:64]


@dataclass(frozen=True)
class TrendingBatch:
    """A batch spec a poll wrote: its name, file and job count, and the job ids made for each
    normalised keyword."""

    name: str
    spec_path: str
    jobs: int
    job_keys: dict[str, list[str]]


def build_batch_spec(
    keywords: Sequence[Keyword],
    templates: Sequence[str],
    *,
    name: str,
    skeleton: Mapping[str, Any] | None = None,
    source: str | Path = "<spec>",
) -> tuple[dict, dict[str, list[str]]]:
    """A batch spec dict (validated by `clipmill.spec.parse_spec`) with one job per keyword
    and template, and the job ids made for each normalised keyword.

    `skeleton` is the rest of the spec: optional `description`, `models` and `defaults`
    (model, size, frames, qa, ...); its jobs, if any, are ignored.
    """
    skeleton = dict(skeleton or {})
    _check_inputs(keywords, templates, skeleton)
    jobs, job_keys = _jobs(keywords, templates)
    spec = {
        "name": name,
        "description": skeleton.get("description") or _describe(keywords),
        "models": dict(skeleton.get("models") or {}),
        "defaults": dict(skeleton.get("defaults") or {}),
        "jobs": jobs,
    }
    # Validate here so a bad skeleton fails the poll that made it, not the batch run later.
    parse_spec(spec, source=source)
    return spec, job_keys


def _check_inputs(keywords: Sequence[Keyword], templates: Sequence[str], skeleton: Mapping[str, Any]) -> None:
    if not templates:
        raise ValueError("no templates given; name at least one of: " + ", ".join(sorted(TEMPLATES)))
    for template in templates:
        if template not in TEMPLATES:
            raise ValueError(f"unknown template {template!r}; known templates: {', '.join(sorted(TEMPLATES))}")
    if not keywords:
        raise ValueError("no keywords to make jobs from")
    unknown = set(skeleton) - _SKELETON_FIELDS
    if unknown:
        raise ValueError(f"spec defaults: unknown field(s) {', '.join(sorted(unknown))}; "
                         f"give 'models', 'defaults' and optionally 'description'")


def _jobs(keywords: Sequence[Keyword], templates: Sequence[str]) -> tuple[list[dict], dict[str, list[str]]]:
    jobs: list[dict] = []
    job_keys: dict[str, list[str]] = {}
    taken: set[str] = set()
    for keyword in keywords:
        for template in templates:
            expand_template(keyword.display, template)  # a keyword the template refuses fails here, by name
            identifier = job_id(keyword, template, taken)
            taken.add(identifier)
            jobs.append({"id": identifier, "keyword": keyword.display, "template": template})
            job_keys.setdefault(keyword.normalised, []).append(identifier)
    return jobs, job_keys


def _describe(keywords: Sequence[Keyword]) -> str:
    shown = ", ".join(k.display for k in keywords[:5])
    return f"Trending keywords: {shown}{' ...' if len(keywords) > 5 else ''}"
