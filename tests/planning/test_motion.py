"""Which actions ask for movement: a pose or a state does not."""
import pytest

from clipmill.planning import plan_shot
from clipmill.planning.motion import moving_actions


@pytest.mark.parametrize("text, moves", [
    ("A man in black stands at a high table in a bright room", False),
    ("Two bottles of water stand on a white table", False),
    ("一名黑衣男子站在明亮房间里的高脚桌旁", False),
    ("猫趴在窗台上", False),
    ("A woman plays with a small dog on a garden path", True),
    ("A woman walks in and stops at a small table", True),
    ("一个女人走进画面，停在小桌前", True),
    ("A man waters the plants", True),
    ("A cat sits perfectly still on a windowsill, then suddenly jumps off", True),
])
def test_only_verbs_of_movement_ask_for_motion(text, moves):
    assert bool(moving_actions(plan_shot(text).actions)) is moves
