"""A check says what it measured (`kind`) and about what (`subject`); its metric name is made
from them for people and storage, and nothing reads that name back."""
import json

import pytest

from clipmill.qa.judge import CHECK_NAMES, check_name
from clipmill.qa.types import Check, CheckKind
from clipmill.report import CAUSES


def test_the_stored_metric_name_is_the_kind_then_the_subject():
    count = Check("interaction", CheckKind.COUNT, 2.0, 0.0, False, "person count rose from 1 to 2", subject="person")
    flicker = Check("temporal", CheckKind.FLICKER, 1.5, 6.0, True, "no flicker")
    assert (count.metric, flicker.metric) == ("count:person", "flicker")
    assert json.loads(json.dumps(count.to_dict())) == {
        "stage": "interaction", "metric": "count:person", "kind": "count", "subject": "person", "value": 2.0,
        "threshold": 0.0, "passed": False, "reason": "person count rose from 1 to 2"}


def test_a_kind_given_by_its_value_becomes_the_enum_and_an_unknown_one_is_refused():
    assert Check("temporal", "flicker", 0.0, None, True, "").kind is CheckKind.FLICKER
    with pytest.raises(ValueError, match="count:person"):
        Check("interaction", "count:person", 0.0, None, True, "")


@pytest.mark.parametrize("kind", list(CheckKind))
def test_every_kind_belongs_to_one_named_check(kind):
    assert check_name(Check("any", kind, 0.0, None, True, "")) in CHECK_NAMES


def test_report_causes_are_keyed_by_kind():
    assert set(CAUSES) <= set(CheckKind)
