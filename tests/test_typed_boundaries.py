"""Typed boundaries, checked over all product code (every folder setup.py installs): statuses are
compared with their enums (clipmill/statuses.py and the like), never with bare strings, so a
misspelt status is an AttributeError at import rather than a comparison that is never true."""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.test_packaging import FOLDERS, ROOT

_EQUALITY_OR_MEMBERSHIP = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)


def _names_a_status(node: ast.expr) -> bool:
    """`status`, `job.status`, `job["status"]`, `job.get("status")`, `label_status`, ..."""
    if isinstance(node, ast.Name):
        return "status" in node.id.lower()
    if isinstance(node, ast.Attribute):
        return "status" in node.attr.lower()
    if isinstance(node, ast.Subscript):
        key = node.slice
        return isinstance(key, ast.Constant) and isinstance(key.value, str) and "status" in key.value.lower()
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
        key = node.args[0]
        return isinstance(key, ast.Constant) and isinstance(key.value, str) and "status" in key.value.lower()
    return False


def _is_string_literal(node: ast.expr) -> bool:
    """"accepted", or a tuple, list or set of nothing but string literals."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return bool(node.elts) and all(_is_string_literal(element) for element in node.elts)
    return False


def bare_status_comparisons(source: str) -> Iterator[tuple[int, str]]:
    """(line, comparison) for each ==, !=, in or not in between a status and a string literal."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for operator, left, right in zip(node.ops, operands, operands[1:]):
            if isinstance(operator, _EQUALITY_OR_MEMBERSHIP) and (
                    (_names_a_status(left) and _is_string_literal(right))
                    or (_names_a_status(right) and _is_string_literal(left))):
                yield node.lineno, ast.unparse(node)


def _product_files() -> Iterator[Path]:
    for folder in FOLDERS.values():
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_the_scan_finds_bare_string_status_comparisons():
    source = '''
if job.status == "accepted": pass
if "failed" != outcome["status"]: pass
if job.get("status") in ("failed", "error"): pass
if label_status not in {"off"}: pass
if job.status == JobStatus.ACCEPTED or kind == "count" or status in STATUSES: pass
'''
    assert [line for line, _ in bare_status_comparisons(source)] == [2, 3, 4, 5]


def test_no_status_is_compared_with_a_bare_string():
    found = [f"{path.relative_to(ROOT)}:{line}: {text}"
             for path in _product_files() for line, text in bare_status_comparisons(path.read_text(encoding="utf-8"))]
    assert not found, "compare statuses with their enums (clipmill/statuses.py):\n" + "\n".join(found)
