"""The two prompt languages, how a text's language is told, and what counts as an English word."""
from __future__ import annotations

import re
from typing import Literal

Language = Literal["en", "zh"]

WORD_RE = re.compile(r"[A-Za-z]+(?:[-'][A-Za-z]+)*|\d+")


def detect_language(text: str) -> Language:
    han = len(re.findall(r"[\u3400-\u9fff]", text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    return "zh" if han > latin_words else "en"
