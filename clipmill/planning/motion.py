"""Whether a shot plan's actions ask for movement, or only for a pose ("a man stands at a table",
"three bottles stand on a table", "猫趴在窗台上").

QA fails a clip that barely moves when the plan asks for action; a clip of someone standing
still must not fail that way. Real footage of a person standing at a table or of bottles on a
table moves 0.09-0.2 luma levels a frame, below the motion floor.
"""
from __future__ import annotations

import re

from clipmill.planning.lexicon.verbs import VERB_CHARS_ZH, VERB_FORMS_EN, verb_forms

# Verbs of a pose or a state: the subject may be perfectly still while doing them.
STILL_VERBS_EN = verb_forms(("stand sit lie rest wait sleep pose hang stay remain lean kneel crouch nap relax "
                             "display watch stare look face wear have is are was were has had keep lay").split())
STILL_CHARS_ZH = re.compile(r"[站坐躺睡等靠倚趴蹲跪立放摆挂停望看盯穿戴有是在亮]")  # 亮: mostly 明亮, bright
# A word after one of these is a noun ("a bottle of water", "the watch"), whatever else it can be.
_NOUN_MARKERS = {"a", "an", "the", "of", "with", "some", "his", "her", "their", "its", "my", "your", "our"}


def moving_actions(actions: list[str]) -> list[str]:
    """The actions with a verb of movement, not only verbs of a pose or a state."""
    return [action for action in actions if _moves(action)]


def _moves(action: str) -> bool:
    words = re.findall(r"[a-z]+", action.lower())
    if words:
        return any(w in VERB_FORMS_EN and w not in STILL_VERBS_EN and (i == 0 or words[i - 1] not in _NOUN_MARKERS)
                   for i, w in enumerate(words))
    # Chinese: any verb character that is not one of a pose
    return any(not STILL_CHARS_ZH.fullmatch(m.group()) for m in VERB_CHARS_ZH.finditer(action))
