"""How much of a prompt each text encoder reads: Wan's UMT5 encoder stops at 512 tokens and
CLIP (the gate and the text-video check) at 77, silently. A prompt longer than that is cut;
the person who wrote it should hear so, and where, before a batch runs.

Counts are estimates (the tokenizers themselves need model files or a slow import): UMT5's
sentencepiece takes about one token per CJK character and 1.3 per English word; CLIP's byte
BPE about one per English word and 2.5 per CJK character (measured on its vocabulary).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
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


def _token_cost(token: str, encoder: TextEncoder) -> float:
    if len(token) == 1 and "\u3400" <= token <= "\ufaff":
        return encoder.per_cjk
    return encoder.per_word if token[0].isalnum() or token[0] == "'" else encoder.per_symbol


def cut_point(text: str, encoder: TextEncoder) -> int | None:
    """The character index where `encoder` stops reading `text`, or None if it reads it all."""
    used = 0.0
    for piece in _PIECE.finditer(text):
        used += _token_cost(piece.group(), encoder)
        if used > encoder.max_tokens:
            return piece.start()
    return None


def estimated_tokens(text: str, encoder: TextEncoder) -> int:
    """About how many tokens `encoder` would make of the whole of `text`."""
    return round(sum(_token_cost(piece.group(), encoder) for piece in _PIECE.finditer(text)))


@dataclass(frozen=True)
class PromptCut:
    """One text an encoder does not read to the end: which encoder, which text, and how much of
    it was kept of what was given (tokens are the estimates above; characters are exact)."""

    encoder: str
    text: str  # which text it reads: "prompt", "segment 2 prompt", "negative prompt"
    max_tokens: int
    tokens_given: int
    characters_given: int
    characters_kept: int

    def to_dict(self) -> dict:
        return {"encoder": self.encoder, "text": self.text, "tokens_kept": self.max_tokens,
                "tokens_given": self.tokens_given, "characters_kept": self.characters_kept,
                "characters_given": self.characters_given}

    def sentence(self) -> str:
        return (f"{self.text} cut by {self.encoder}: it reads about {self.max_tokens} of about {self.tokens_given} "
                f"tokens, {self.characters_kept} of {self.characters_given} characters")


def prompt_cut(text: str, encoder: TextEncoder, *, label: str = "prompt") -> PromptCut | None:
    """How `encoder` cuts `text`, or None when it reads all of it."""
    at = cut_point(text, encoder)
    if at is None:
        return None
    return PromptCut(encoder=encoder.name, text=label, max_tokens=encoder.max_tokens,
                     tokens_given=estimated_tokens(text, encoder), characters_given=len(text), characters_kept=at)


def clip_prompt_cuts(prompt: str, segment_prompts: Sequence[str], negative_prompt: str = "") -> list[PromptCut]:
    """Every cut of the texts one clip's encoders read: Wan's encoder reads each segment's
    prompt and the negative prompt (what the shot plan made of the prompt); CLIP, in the input
    gate and the text-video check, reads the job's prompt as written."""
    wan, clip = ENCODERS
    texts = [(wan, text, f"segment {number} prompt" if len(segment_prompts) > 1 else "generation prompt")
             for number, text in enumerate(segment_prompts, start=1)]
    texts += [(wan, negative_prompt, "negative prompt"), (clip, prompt, "prompt")]
    return [cut for encoder, text, label in texts if text and (cut := prompt_cut(text, encoder, label=label))]


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
