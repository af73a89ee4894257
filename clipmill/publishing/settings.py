"""The `publish:` block of a batch spec: the labels a published clip carries.

Off by default. The minimums are the law's, not taste: GB 45438-2025 asks a synthetic video
for a visible label on its opening frames for at least 2 s, with text at least 5% of the
frame's shorter side, and for an `AIGC` metadata object in the file.
"""
from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

LabelPosition = Literal["top-left", "top-right", "bottom-left", "bottom-right", "top", "bottom", "center"]
SigningAlg = Literal["ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "Ed25519"]

MIN_LABEL_SECONDS = 2.0
MIN_TEXT_HEIGHT = 0.05


class _Strict(BaseModel):
    # As clipmill.spec's: a misspelt key in a hand-written YAML file is an error, not a default.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, populate_by_name=True)


class LabelSettings(_Strict):
    """The explicit label: text burnt into the picture."""

    text: str = Field("AI生成", min_length=1, max_length=40,
                      description='what the viewer reads, e.g. "AI生成" or "AI-generated"')
    position: LabelPosition = "top-left"
    # The defaults keep a margin over the minimums: a first frame a player skips, a checker that
    # measures a Latin letter rather than the tallest glyph.
    seconds: float = Field(2.5, ge=MIN_LABEL_SECONDS, le=600.0,
                           description="how long the label shows at the start (and at the end when asked), at the "
                                       "clip's own fps; a clip shorter than this is labelled throughout")
    text_height: float = Field(0.06, ge=MIN_TEXT_HEIGHT, le=0.3,
                               description="height of the tallest glyph above the baseline, as a fraction of the "
                                           "frame's shorter side")
    also_at_end: bool = Field(False, description="label the closing frames as well")
    font: Path | None = Field(None, description="a .ttf/.ttc/.otf with glyphs for the text; None: a known CJK font "
                                                "(fonts-wqy-microhei, Noto CJK, ...)")

    @field_validator("text")
    @classmethod
    def _printable(cls, text: str) -> str:
        if not text.isprintable():
            raise ValueError("the label is one line of printable text (no tabs or line breaks)")
        return text


class AIGCSettings(_Strict):
    """The implicit label: GB 45438-2025's `AIGC` metadata object (ProduceID is made per clip).

    Keys may be written as the standard spells them (`ContentProducer`) or in snake case.
    """

    label: Literal["1", "2", "3"] = Field(
        "1", validation_alias=AliasChoices("label", "Label"),
        description='"1": AI-generated content; "2": possibly; "3": suspected (the standard\'s values)')
    content_producer: str = Field(
        "clipmill", min_length=1, max_length=200, validation_alias=AliasChoices("content_producer", "ContentProducer"),
        description="name or code of the service provider that generated the clip: set it to your organisation's")
    reserved_code1: str = Field("", max_length=2000, validation_alias=AliasChoices("reserved_code1", "ReservedCode1"),
                                description="the producer's own protection data (a signature, a hash), if any")
    content_propagator: str = Field(
        "", max_length=200, validation_alias=AliasChoices("content_propagator", "ContentPropagator"),
        description="name or code of the platform that distributes it; usually filled in by that platform")
    reserved_code2: str = Field("", max_length=2000, validation_alias=AliasChoices("reserved_code2", "ReservedCode2"),
                                description="the propagator's own protection data, if any")


class C2PASettings(_Strict):
    """C2PA content credentials: a manifest signed with the team's certificate and key."""

    cert: Path = Field(description="PEM certificate chain: the signing certificate first, then its issuers")
    key: Path = Field(description="PEM private key of the signing certificate")
    alg: SigningAlg = "ES256"
    tsa_url: str | None = Field(None, description="RFC 3161 time-stamp authority; None: no time stamp")


class LabelStatus(StrEnum):
    """What a published clip carries: nothing, the visible label and AIGC metadata, or those
    and signed C2PA credentials."""

    OFF = "off"
    EXPLICIT_IMPLICIT = "explicit+implicit"
    EXPLICIT_IMPLICIT_C2PA = "explicit+implicit+c2pa"


class PublishSettings(_Strict):
    """What a published clip carries: explicit label, AIGC metadata, optionally C2PA credentials."""

    enabled: bool = False
    label: LabelSettings = LabelSettings()
    metadata: AIGCSettings = AIGCSettings()
    c2pa: C2PASettings | None = None

    @property
    def status(self) -> LabelStatus:
        """What a clip encoded under these settings carries, for manifests and the database."""
        if not self.enabled:
            return LabelStatus.OFF
        return LabelStatus.EXPLICIT_IMPLICIT_C2PA if self.c2pa else LabelStatus.EXPLICIT_IMPLICIT
