"""The publish manifest of a batch: one row per accepted clip, as CSV and JSON, the input an
upload tool takes (file, poster, title, description, hashtags, duration, size, checksum, labels).
"""
from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from clipmill.media import probe
from clipmill.publishing.settings import LabelStatus
from clipmill.storage.files import atomic_path, sha256_file

LABEL_STATUSES: tuple[str, ...] = tuple(LabelStatus)
# Tags a template's clips share, per language; other templates get their name as a tag.
TEMPLATE_HASHTAGS: dict[str, dict[str, tuple[str, ...]]] = {
    "product-showcase": {"zh": ("好物推荐", "产品展示"), "en": ("ProductShowcase", "ShopNow")},
    "trending-short": {"zh": ("热门", "短视频"), "en": ("Trending", "Shorts")},
}
AI_HASHTAG = {"zh": "AI生成", "en": "AIGenerated"}
DISCLOSURE = {"zh": "（本视频由人工智能生成）", "en": "(This video is AI-generated.)"}
_TITLE_CHARS = {"zh": 30, "en": 70}


@dataclass(frozen=True)
class PublishRow:
    """One accepted clip as an upload tool sees it."""

    job_id: str
    file: str  # path or URL of the MP4
    poster: str  # path or URL of the poster PNG ("" when none)
    title: str
    description: str
    hashtags: tuple[str, ...]  # with their '#'
    duration_s: float
    width: int
    height: int
    size_bytes: int
    sha256: str
    label_status: LabelStatus
    produce_id: str  # the AIGC ProduceID ("" when unlabelled)

    def __post_init__(self) -> None:
        if self.label_status not in LABEL_STATUSES:
            raise ValueError(f"{self.job_id}: label_status {self.label_status!r} is not one of {LABEL_STATUSES}")
        if self.label_status != LabelStatus.OFF and not self.produce_id:
            raise ValueError(f"{self.job_id}: a labelled clip needs its ProduceID")
        object.__setattr__(self, "hashtags", tuple(self.hashtags))

    def to_dict(self) -> dict:
        return {**asdict(self), "hashtags": list(self.hashtags)}

    @classmethod
    def from_clip(cls, clip: str | Path, *, job_id: str, plan: Mapping | Any, keyword: str | None = None,
                  template: str | None = None, poster: str | Path | None = None, label_status: LabelStatus = LabelStatus.OFF,
                  produce_id: str | None = None, file: str | None = None, poster_url: str | None = None,
                  title: str | None = None, description: str | None = None) -> "PublishRow":
        """A row from a local MP4 (probed and hashed here) and its shot plan (`ShotPlan` or its
        `to_dict()`). `file`/`poster_url`: what the row names instead of the local paths
        (artifact-store URLs); `title`/`description` override the ones made from the plan."""
        clip = Path(clip)
        info = probe(clip)
        labelled = label_status != LabelStatus.OFF
        made_title, made_description = title_and_description(plan, keyword, labelled=labelled)
        return cls(
            job_id=job_id, file=file or str(clip), poster=poster_url or (str(poster) if poster else ""),
            title=title or made_title, description=description or made_description,
            hashtags=tuple(hashtags(keyword, template, language=_field(plan, "language"), labelled=labelled)),
            duration_s=round(info.frames / info.fps, 3) if info.fps else 0.0,
            width=info.width, height=info.height, size_bytes=clip.stat().st_size, sha256=sha256_file(clip),
            label_status=label_status, produce_id=produce_id or "")


def publish_manifest(rows: Iterable[PublishRow | Mapping], *, batch: str | None = None) -> tuple[str, str]:
    """(CSV text, JSON text) for a batch's rows (PublishRow or dicts with its fields).

    CSV: a header and one line per clip, hashtags space-separated. Write it with
    `encoding="utf-8-sig"` (as `write_publish_manifest` does) so spreadsheet programs read the
    Chinese right. JSON: {"batch": ..., "count": n, "clips": [row, ...]}.
    """
    parsed = [row if isinstance(row, PublishRow) else PublishRow(**dict(row)) for row in rows]
    names = [f.name for f in fields(PublishRow)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for row in parsed:
        writer.writerow({**asdict(row), "hashtags": " ".join(row.hashtags)})
    document = {"batch": batch, "count": len(parsed), "clips": [row.to_dict() for row in parsed]}
    return buffer.getvalue(), json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def write_publish_manifest(rows: Iterable[PublishRow | Mapping], folder: str | Path, *, batch: str | None = None,
                           stem: str = "publish") -> tuple[Path, Path]:
    """`<folder>/<stem>.csv` and `<stem>.json`, written atomically; returns their paths."""
    csv_text, json_text = publish_manifest(rows, batch=batch)
    folder = Path(folder)
    paths = folder / f"{stem}.csv", folder / f"{stem}.json"
    with atomic_path(paths[0]) as tmp:
        tmp.write_text(csv_text, encoding="utf-8-sig", newline="")
    with atomic_path(paths[1]) as tmp:
        tmp.write_text(json_text, encoding="utf-8")
    return paths


def title_and_description(plan: Mapping | Any, keyword: str | None = None, *, labelled: bool = False) -> tuple[str, str]:
    """A title and a description from the shot plan.

    A keyword job's title is its keyword and its description says what happens where (the
    expanded template is written for the generator, not for viewers); a prompt job's are the
    prompt's first sentence and the prompt as written. A labelled clip's description ends
    with a plain statement that it is AI-generated.
    """
    language = "zh" if _field(plan, "language") == "zh" else "en"
    source = " ".join(str(_field(plan, "source_text") or "").split())
    if keyword and keyword.strip():
        title = " ".join(keyword.split())
        actions = [a for a in _field(plan, "actions") or [] if a]
        location = _field(plan, "location") or ""
        if language == "zh":
            description = "，".join(actions) + (f"。场景：{location}" if location else "")
        else:
            description = "; ".join(actions) + (f". Setting: {location}" if location else "")
        description = description.strip("，; ") or source
    else:
        title, description = _first_sentence(source), source
    title = _clip(title[:1].upper() + title[1:] if language == "en" else title, _TITLE_CHARS[language])
    if description and description[-1] not in "。.!?！？":
        description += "。" if language == "zh" else "."
    if labelled:
        separator = " " if language == "en" and description else ""
        description = description + separator + DISCLOSURE[language]
    return title, description


def hashtags(keyword: str | None, template: str | None, *, language: str | None = None,
             labelled: bool = False) -> list[str]:
    """'#' tags: the keyword's, the template's, and the AI-generated tag for a labelled clip."""
    language = "zh" if language == "zh" else "en"
    tags = []
    if keyword:
        tags.append(_as_tag(keyword))
    if template:
        tags += TEMPLATE_HASHTAGS.get(template, {}).get(language, (_as_tag(template.replace("-", " ")),))
    if labelled:
        tags.append(AI_HASHTAG[language])
    seen, out = set(), []
    for tag in tags:
        tag = _as_tag(tag)
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            out.append("#" + tag)
    return out


def _as_tag(text: str) -> str:
    """Letters and digits only (a space or '#' would end the tag); words of Latin text camel-cased."""
    words = re.split(r"[\s\-_/]+", unicodedata.normalize("NFKC", text.lstrip("#")))
    if len(words) > 1:
        words = [w[:1].upper() + w[1:] for w in words]
    return "".join(ch for ch in "".join(words) if ch.isalnum())


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[。！？!?]|.+?\.(?=\s|$))", text)
    return (match.group(1) if match else text).rstrip("。.!?！？ ")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _field(plan: Mapping | Any, name: str) -> Any:
    return plan.get(name) if isinstance(plan, Mapping) else getattr(plan, name, None)
