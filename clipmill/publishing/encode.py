"""One call for the encode step: label, encode with the AIGC tag, optionally sign with C2PA."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from clipmill.media import encode_mp4
from clipmill.publishing.aigc import aigc_metadata, aigc_tags, new_produce_id
from clipmill.publishing.credentials import c2pa_available, clip_manifest, sign_c2pa
from clipmill.publishing.label import burn_label, check_label_font, label_frame_indices, opening_frames, render_label
from clipmill.publishing.settings import LabelStatus, PublishSettings


@dataclass(frozen=True)
class PublishedLabels:
    """What the encoded file carries; small enough for a Prefect result and a database row."""

    status: LabelStatus  # PublishSettings.status
    produce_id: str | None
    aigc: dict[str, str] | None
    labelled_frames: int  # frames with the visible label (opening, plus closing with also_at_end)
    label_seconds: float  # how long the opening label shows at the clip's fps
    text_px: int | None  # label text height above the baseline, pixels
    c2pa_signed: bool

    def to_dict(self) -> dict:
        return asdict(self)


def encode_published(frames: np.ndarray, dest: str | Path, *, fps: float, settings: PublishSettings,
                     produce_id: str | None = None, c2pa_manifest: dict | None = None,
                     crf: int = 18, preset: str = "medium") -> PublishedLabels:
    """Encode `frames` to `dest` as `encode_mp4` does, with the labels `settings` ask for.

    1. settings off: a plain encode, nothing added.
    2. the visible label on the opening (and closing) frames;
    3. the AIGC tag, with `produce_id` (a new one when None);
    4. C2PA credentials when `settings.c2pa` is set: `c2pa_manifest` (see `clip_manifest`), or
       a minimal one naming the ProduceID.
    """
    # 1. nothing to add
    if not settings.enabled:
        encode_mp4(frames, dest, fps=fps, crf=crf, preset=preset)
        return PublishedLabels(LabelStatus.OFF, None, None, 0, 0.0, None, False)

    # 2. explicit label
    count, height, width, _ = frames.shape
    labelled = burn_label(frames, fps, settings)
    indices = label_frame_indices(count, fps, settings)
    opening = opening_frames(count, fps, settings)

    # 3. implicit label
    produce_id = produce_id or new_produce_id()
    aigc = aigc_metadata(settings, produce_id)
    encode_mp4(labelled, dest, fps=fps, crf=crf, preset=preset, metadata=aigc_tags(aigc))

    # 4. content credentials
    if settings.c2pa is not None:
        manifest = c2pa_manifest or clip_manifest(title=Path(dest).name, model="unknown",
                                                  record={}, produce_id=produce_id)
        sign_c2pa(dest, manifest, settings.c2pa.cert, settings.c2pa.key,
                  alg=settings.c2pa.alg, tsa_url=settings.c2pa.tsa_url)
    return PublishedLabels(status=settings.status, produce_id=produce_id, aigc=aigc,
                           labelled_frames=len(indices), label_seconds=round(opening / fps, 3),
                           text_px=render_label(width, height, settings).text_px,
                           c2pa_signed=settings.c2pa is not None)


def check_publish_settings(settings: PublishSettings) -> list[str]:
    """For preflight, before any GPU time: one line per thing that would stop encoding later
    (no font for the label, c2pa-python missing, certificate or key file missing)."""
    if not settings.enabled:
        return []
    problems = [problem for problem in [check_label_font(settings)] if problem]
    if settings.c2pa is not None:
        if not c2pa_available():
            problems.append("publish.c2pa is set but c2pa-python is not installed: pip install 'clipmill[c2pa]'")
        for what, path in (("cert", settings.c2pa.cert), ("key", settings.c2pa.key)):
            if not Path(path).expanduser().is_file():
                problems.append(f"publish.c2pa.{what}: {path} not found")
    return problems
