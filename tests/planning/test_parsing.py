from __future__ import annotations

from clipmill.planning.parsing.frames import FRAMES
from clipmill.planning.parsing.interaction_rules import RULES_EN, RULES_ZH


def test_every_interaction_rule_names_a_frame_handler():
    named = {frame for _, _, _, frame in RULES_EN + RULES_ZH}
    assert named <= set(FRAMES), named - set(FRAMES)


def test_every_frame_handler_is_used_by_a_rule():
    named = {frame for _, _, _, frame in RULES_EN + RULES_ZH}
    assert set(FRAMES) <= named, set(FRAMES) - named
