"""A keyword's two forms: the display text that goes into prompts, and the normalised text
that decides identity (duplicates, word lists, the database)."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Keyword:
    display: str
    normalised: str
    source: str


def normalise(text: str) -> tuple[str, str]:
    """(display, normalised): NFKC, format characters (zero-width, BOM) removed, a hashtag's
    surrounding '#' removed, whitespace collapsed; `normalised` is also casefolded."""
    # NFKC folds full-width letters ("ＡＩ") that Chinese input methods produce into ASCII.
    text = unicodedata.normalize("NFKC", text or "")
    # Zero-width characters are invisible in a feed but would make two keywords differ.
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    display = " ".join(text.split())
    display = " ".join(display.strip("#").split())
    # casefold, not lower: "Straße" and "STRASSE" are one keyword.
    return display, display.casefold()
