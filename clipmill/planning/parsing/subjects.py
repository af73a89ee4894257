"""Subjects: every noun phrase the lexicon knows, in text order, with its class and stated count."""
from __future__ import annotations

from clipmill.planning.language import Language
from clipmill.planning.parsing.records import Mention
from clipmill.planning.parsing.subjects_en import mentions_en
from clipmill.planning.parsing.subjects_zh import mentions_zh


def find_mentions(text: str, language: Language) -> list[Mention]:
    """Every noun phrase the lexicon knows, in text order, with its class and stated count."""
    return mentions_en(text) if language == "en" else mentions_zh(text)
