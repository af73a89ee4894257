"""Subjects: every noun phrase the lexicon knows, in text order, with its class and stated count."""
from __future__ import annotations

import re

from clipmill.planning.language import Language
from clipmill.planning.parsing.records import Mention
from clipmill.planning.parsing.subjects_en import mentions_en
from clipmill.planning.parsing.subjects_zh import mentions_zh

_HAN_RUN = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]+")
# "一对couple", "两个girls", "一台laptop": a Chinese number and classifier right before an English noun
_NUMBER_BEFORE_LATIN = re.compile(r"(?P<number>[一两二三四五六七八九])(?:个|只|位|条|辆|台|对|双|名|头|匹|张|把|杯|瓶|本|部|件|盒)"
                                  r"(?:新的|小|大)?\s*(?=[A-Za-z])")
_NUMBERS = {"一": "a", "两": "2", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}


def find_mentions(text: str, language: Language) -> list[Mention]:
    """Every noun phrase the lexicon knows, in text order, with its class and stated count.

    A Chinese prompt often names things in English ("一对couple在海边看sunset", "用laptop上网课"):
    those are read with the English lexicon too, each Chinese number and classifier before one
    standing for its English article or number."""
    if language == "en":
        return mentions_en(text)
    found = mentions_zh(text)
    if not re.search(r"[A-Za-z]{2}", text):
        return found
    latin = mentions_en(_as_english(text))
    taken = [(m.start, m.end) for m in found]
    found += [m for m in latin if not any(start < m.end and m.start < end for start, end in taken)]
    return sorted(found, key=lambda m: m.start)


def _as_english(text: str) -> str:
    """The text with each run of Chinese characters a full stop padded to its length (offsets stay,
    and English phrases on either side stay apart), a number and classifier before an English word
    written as its English number ("一对couple" -> "a  couple")."""
    def number(found: re.Match) -> str:
        word, width = _NUMBERS[found.group("number")], len(found.group(0))
        if found.start() and text[found.start() - 1].isascii() and text[found.start() - 1].isalpha():
            word = " " + word if width > 2 else ""  # "unboxing一台MacBook": an English word must not run into it
        return word.ljust(width)
    return _HAN_RUN.sub(lambda run: " ." + " " * (len(run.group(0)) - 2) if len(run.group(0)) > 1 else ".",
                        _NUMBER_BEFORE_LATIN.sub(number, text))
