"""Typed boundaries, checked over all product code (every folder setup.py installs): statuses are
compared with their enums (clipmill/statuses.py and the like), never with bare strings, so a
misspelt status is an AttributeError at import rather than a comparison that is never true; and
a QA check is told apart by its `kind` and `subject`, never by parsing its metric name."""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.test_packaging import FOLDERS, ROOT

_EQUALITY_OR_MEMBERSHIP = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)


def _names(node: ast.expr, word: str) -> bool:
    """Whether `node` is named for `word`: `status`, `job.status`, `job["status"]`,
    `job.get("status")`, `label_status`, ..."""
    if isinstance(node, ast.Name):
        return word in node.id.lower()
    if isinstance(node, ast.Attribute):
        return word in node.attr.lower()
    if isinstance(node, ast.Subscript):
        key = node.slice
        return isinstance(key, ast.Constant) and isinstance(key.value, str) and word in key.value.lower()
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
        key = node.args[0]
        return isinstance(key, ast.Constant) and isinstance(key.value, str) and word in key.value.lower()
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
                    (_names(left, "status") and _is_string_literal(right))
                    or (_names(right, "status") and _is_string_literal(left))):
                yield node.lineno, ast.unparse(node)


_STRING_PARSING = {"startswith", "endswith", "split", "rsplit", "partition", "rpartition", "removeprefix", "find",
                   "index"}


def parsed_metric_names(source: str) -> Iterator[tuple[int, str]]:
    """(line, call) for each string method that takes a metric name apart: `c.metric.split(":")`,
    `c["metric"].startswith("count:")`, `metric.partition(":")`."""
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _STRING_PARSING
                and _names(node.func.value, "metric")):
            yield node.lineno, ast.unparse(node)


# The one place that may read old metric names: the migration that gives rows stored before
# `kind` and `subject` existed those fields, once.
_READS_STORED_NAMES = {Path("storage/migrations/versions/0004_check_kinds.py")}


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
    assert sorted(line for line, _ in bare_status_comparisons(source)) == [2, 3, 4, 5]


def test_no_status_is_compared_with_a_bare_string():
    found = [f"{path.relative_to(ROOT)}:{line}: {text}"
             for path in _product_files() for line, text in bare_status_comparisons(path.read_text(encoding="utf-8"))]
    assert not found, "compare statuses with their enums (clipmill/statuses.py):\n" + "\n".join(found)


def test_the_scan_finds_parsed_metric_names():
    source = '''
kind = check.metric.split(":", 1)[0]
if c["metric"].startswith("unchecked:"): pass
kind, _, subject = metric.partition(":")
if check.kind == CheckKind.COUNT and check.metric == "flicker": pass
'''
    assert sorted(line for line, _ in parsed_metric_names(source)) == [2, 3, 4]


def test_no_metric_name_is_parsed_back():
    found = [f"{path.relative_to(ROOT)}:{line}: {text}" for path in _product_files()
             if path.relative_to(ROOT) not in _READS_STORED_NAMES
             for line, text in parsed_metric_names(path.read_text(encoding="utf-8"))]
    assert not found, "read Check.kind and Check.subject (qa/types.py) instead:\n" + "\n".join(found)
    assert all((ROOT / path).exists() for path in _READS_STORED_NAMES)
