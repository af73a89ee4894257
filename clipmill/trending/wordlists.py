"""Brand-safety word lists (blocklist, allowlist), matched on normalised text.

A term containing a CJK character matches as a substring, because Chinese has no spaces
between words ("赌博" blocks "线上赌博平台"); any other term matches whole words only, so
"ass" blocks "kick ass" but not "glass".
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from clipmill.trending.documents import is_comment_line
from clipmill.trending.keywords import normalise
from clipmill.storage.user_files import read_user_text

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@dataclass(frozen=True)
class WordList:
    """Brand-safety terms, matched on normalised text (CJK: substring; other: whole words)."""

    terms: tuple[str, ...] = ()

    @classmethod
    def of(cls, terms: Iterable[str] | None) -> "WordList":
        # Terms are normalised like keywords, so "ＧＵＮ" in a list still matches "nerf gun".
        normalised = (normalise(t)[1] for t in (terms or ()))
        return cls(tuple(sorted({t for t in normalised if t})))

    @classmethod
    def load(cls, path: str | Path) -> "WordList":
        """One term a line; blank lines and comment lines ("# ...") are skipped."""
        text = read_user_text(path, kind="text")  # a FIFO or a device is refused, never opened
        return cls.of(line for line in text.splitlines() if not is_comment_line(line))

    def __bool__(self) -> bool:
        return bool(self.terms)

    def match(self, normalised: str) -> str | None:
        """The first term found in `normalised`, or None."""
        for term in self.terms:
            if _CJK.search(term):
                if term in normalised:
                    return term
            elif re.search(rf"(?<!\w){re.escape(term)}(?!\w)", normalised):
                return term
        return None
