"""The JSON path that picks keywords out of an API's answer.

Dot-separated keys with `[*]` (every element of a list) and `[N]` (one element, negative
counts from the end): `data.items[*].title`, `[*].name`, `trends[0].words[*]`. Deliberately
this small, so that every error can say exactly where the path and the document part ways.
"""
from __future__ import annotations

import re
from typing import Any

_PATH_TOKEN = re.compile(r"\[(?P<index>\*|-?\d+)\]|(?P<key>[^.\[\]]+)|(?P<dot>\.)")

# (value, where it is as "$.a[0].b", whether it came from below a [*])
_Selected = tuple[Any, str, bool]


def parse_json_path(path: str) -> list[str | int]:
    """'data.items[*].title' -> ['data', 'items', '*', 'title']; '*' iterates a list."""
    steps: list[str | int] = []
    position, expect_key = 0, True
    for match in _PATH_TOKEN.finditer(path):
        # A gap between tokens is a character no token accepts, such as a stray ']'.
        if match.start() != position:
            break
        position = match.end()
        if match.group("dot"):
            if expect_key:
                raise ValueError(f"JSON path {path!r}: empty key at character {match.start()}")
            expect_key = True
        elif match.group("key") is not None:
            if not expect_key:
                raise ValueError(f"JSON path {path!r}: missing '.' before {match.group('key')!r}")
            steps.append(match.group("key"))
            expect_key = False
        else:
            index = match.group("index")
            steps.append("*" if index == "*" else int(index))
            expect_key = False
    if position != len(path) or not steps or expect_key and path:
        raise ValueError(f"JSON path {path!r} is not valid; write keys with '.', list steps as [*] or [N], "
                         f"e.g. data.items[*].title")
    return steps


def select_json(document: Any, path: str) -> tuple[list[Any], int]:
    """The values `path` selects, and how many list elements it skipped.

    Below a `[*]` an element that lacks the rest of the path is one malformed item, skipped
    and counted; anywhere else a missing key or index is a wrong path: `LookupError` naming
    where it went wrong. A path whose every element is malformed is wrong too.
    """
    values: list[_Selected] = [(document, "$", False)]
    skipped, first_problem = 0, ""
    for step in parse_json_path(path):
        selected: list[_Selected] = []
        for value, at, in_list in values:
            try:
                selected += _step(value, at, step, in_list)
            except LookupError as problem:
                if not in_list:
                    raise
                skipped += 1
                first_problem = first_problem or str(problem)
        values = selected
    if skipped and not values:
        raise LookupError(f"no element has it: {first_problem}")
    return [value for value, _, _ in values], skipped


def _step(value: Any, at: str, step: str | int, in_list: bool) -> list[_Selected]:
    if step == "*":
        if not isinstance(value, list):
            raise LookupError(f"{at} is {json_type(value)}, not a list, so [*] does not apply")
        return [(item, f"{at}[{i}]", True) for i, item in enumerate(value)]
    if isinstance(step, int):
        if not isinstance(value, list):
            raise LookupError(f"{at} is {json_type(value)}, not a list, so [{step}] does not apply")
        if not -len(value) <= step < len(value):
            raise LookupError(f"{at} has {len(value)} element(s); [{step}] is out of range")
        return [(value[step], f"{at}[{step}]", in_list)]
    if not isinstance(value, dict):
        raise LookupError(f"{at} is {json_type(value)}, not an object, so key {step!r} does not apply")
    if step not in value:
        raise LookupError(f"{at} has no key {step!r} (keys: {', '.join(list(value)[:8]) or 'none'})")
    return [(value[step], f"{at}.{step}", in_list)]


def json_type(value: Any) -> str:
    """The JSON name of a value's type, with its article, for error messages."""
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")
