"""The expectations as a person reads them: what QA enforces (with the planner's confidence)
and what it leaves unchecked (with why). `clipmill plan` prints these; its --json gives
`expectation_items`."""
from __future__ import annotations

from clipmill.qa.types import Expectations


def enforced_items(expectations: Expectations) -> list[dict]:
    """One dict per enforced rule: kind ("presence", "count", "absent", "interaction"), subject,
    value, confidence (None where the plan carries none, e.g. a hand-written --expect)."""
    confidence = expectations.confidence
    items = []
    for name, count in expectations.classes.items():
        items.append({"kind": "presence", "subject": name, "value": "in view",
                      "confidence": confidence.get(f"presence:{name}")})
        items.append({"kind": "count", "subject": name, "value": str(count),
                      "confidence": confidence.get(f"count:{name}")})
    for name, fewest in expectations.at_least.items():
        items.append({"kind": "presence", "subject": name, "value": "in view (any number)" if fewest == 1 else "in view",
                      "confidence": confidence.get(f"presence:{name}")})
        if fewest > 1:
            items.append({"kind": "count", "subject": name, "value": f"at least {fewest}",
                          "confidence": confidence.get(f"count:{name}")})
    for name in expectations.forbidden:
        items.append({"kind": "absent", "subject": name, "value": "not in view",
                      "confidence": confidence.get(f"absent:{name}")})
    if expectations.interaction is not None:
        items.append({"kind": "interaction", "subject": " -> ".join(expectations.subjects) or "-",
                      "value": expectations.interaction,
                      "confidence": confidence.get(f"interaction:{expectations.interaction}")})
    return items


def expectation_items(expectations: Expectations) -> dict:
    """{"enforced": [...], "unchecked": [...]}: the rules QA checks and those it does not, apart."""
    return {"enforced": enforced_items(expectations), "unchecked": [u.to_dict() for u in expectations.unchecked]}


def expectation_lines(expectations: Expectations) -> list[str]:
    """"enforced   count        person = 2     0.80" and "unchecked  count  person = 3  0.30  why"."""
    lines = []
    for item in enforced_items(expectations):
        shown = "  -  " if item["confidence"] is None else f"{item['confidence']:.2f}"
        lines.append(f"enforced   {item['kind']:<12} {item['subject']} = {item['value']}  ({shown})")
    for item in expectations.unchecked:
        lines.append(f"unchecked  {item.kind:<12} {item.subject} = {item.value}  ({item.confidence:.2f}): {item.why}")
    return lines
