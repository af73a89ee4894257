"""The implicit label: GB 45438-2025's `AIGC` metadata object, written as an MP4 tag.

The standard names seven fields, in this order. ProduceID is the producer's number for this
piece of content, so every clip gets its own (and the database records it); PropagateID is
for the platform that distributes the file, and stays empty until one fills it in.
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path

from clipmill.media import read_metadata
from clipmill.publishing.settings import AIGCSettings, PublishSettings

AIGC_TAG = "AIGC"
AIGC_FIELDS = ("Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID",
               "ReservedCode2")


def new_produce_id() -> str:
    """A ProduceID no other clip has: 32 hex digits of a random UUID, safe in any file or URL."""
    return uuid.uuid4().hex


def aigc_metadata(settings: PublishSettings | AIGCSettings, produce_id: str,
                  propagate_id: str | None = None) -> dict[str, str]:
    """The `AIGC` object for one clip, every value a string, in the standard's field order."""
    meta = settings.metadata if isinstance(settings, PublishSettings) else settings
    if not produce_id or not str(produce_id).strip():
        raise ValueError("ProduceID is required: make one per clip with new_produce_id()")
    return {
        "Label": meta.label,
        "ContentProducer": meta.content_producer,
        "ProduceID": str(produce_id),
        "ReservedCode1": meta.reserved_code1,
        "ContentPropagator": meta.content_propagator,
        "PropagateID": propagate_id or "",
        "ReservedCode2": meta.reserved_code2,
    }


def aigc_tags(aigc: dict[str, str]) -> dict[str, str]:
    """`encode_mp4(..., metadata=aigc_tags(aigc))`: the object as one compact JSON tag.

    Non-ASCII (a Chinese producer name) is kept as UTF-8 text, as readers of the tag expect.
    """
    unknown = set(aigc) - set(AIGC_FIELDS)
    if unknown:
        raise ValueError(f"not AIGC fields: {sorted(unknown)}")
    return {AIGC_TAG: json.dumps(aigc, ensure_ascii=False, separators=(",", ":"))}


def read_aigc(path: str | Path) -> dict[str, str] | None:
    """The `AIGC` object of an MP4, read through ffprobe; None when the file has none."""
    text = read_metadata(path).get(AIGC_TAG)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: the AIGC tag is not JSON ({error.msg})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path}: the AIGC tag is not a JSON object")
    return value
