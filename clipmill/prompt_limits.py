"""How much of a prompt each text encoder reads: Wan's UMT5 encoder stops at 512 tokens and
CLIP (the gate and the text-video check) at 77, silently. A prompt longer than that is cut;
the person who wrote it should hear so, and where, before a batch runs.

Counts are estimates (the tokenizers themselves need model files or a slow import): UMT5's
sentencepiece takes about one token per CJK character and 1.3 per English word; CLIP's byte
BPE about one per English word and 2.5 per CJK character (measured on its vocabulary).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_PIECE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[A-Za-z0-9']+|[^\sA-Za-z0-9'\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class TextEncoder:
    name: str
    max_tokens: int
    per_cjk: float
    per_word: float
    per_symbol: float = 1.0


ENCODERS = (
    TextEncoder("Wan's text encoder (UMT5)", 512, per_cjk=1.0, per_word=1.3),
    TextEncoder("CLIP (gate and text-video check)", 75, per_cjk=2.5, per_word=1.0),  # 77 with start/end
)


def cut_point(text: str, encoder: TextEncoder) -> int | None:
    """The character index where `encoder` stops reading `text`, or None if it reads it all."""
    used = 0.0
    for piece in _PIECE.finditer(text):
        token = piece.group()
        used += encoder.per_cjk if len(token) == 1 and "\u3400" <= token <= "\ufaff" else (
            encoder.per_word if token[0].isalnum() or token[0] == "'" else encoder.per_symbol)
        if used > encoder.max_tokens:
            return piece.start()
    return None


def length_warnings(text: str) -> list[str]:
    """One sentence per encoder that will not read the whole prompt, saying where it stops."""
    warnings = []
    for encoder in ENCODERS:
        at = cut_point(text, encoder)
        if at is not None:
            before = " ".join(text[max(0, at - 30):at].split())
            warnings.append(f"prompt of {len(text)} characters is cut by {encoder.name} after about "
                            f"{encoder.max_tokens} tokens, at character {at} (after \u201c\u2026{before}\u201d)")
    return warnings
