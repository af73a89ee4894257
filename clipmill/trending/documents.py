"""Keyword documents that are not feeds: JSON, CSV and plain text.

Each parser returns the keywords in document order and how many entries it had to skip, so
the poller can report a source that is half broken instead of silently shrinking.
"""
from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from clipmill.trending.addressing import Source, SourceError
from clipmill.trending.json_path import json_type, select_json

CSV_HEADER_NAMES = ("keyword", "keywords", "title", "term", "topic", "query", "关键词", "热词", "话题", "标题")

# "# note" is a comment; "#露营#" (a Weibo-style hashtag, no space) is a keyword.
_COMMENT_LINE = re.compile(r"\s*#(?:\s|$)")


def is_comment_line(line: str) -> bool:
    """A '#' followed by a space or nothing; shared with word-list files so both read alike."""
    return bool(_COMMENT_LINE.match(line))


def parse_text_keywords(text: str) -> list[str]:
    """One keyword a line; blank and comment lines skipped."""
    return [line for line in text.splitlines() if line.strip() and not is_comment_line(line)]


def parse_json_keywords(source: Source, text: str) -> tuple[list[str], int]:
    """The strings (or numbers) the source's `path` selects; without one, a list of them."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(source.address, f"not valid JSON ({error})") from None
    values, skipped = _json_values(source, document)
    keywords, malformed = _texts_of(values)
    if values and not keywords:
        raise SourceError(source.address, f"JSON path {source.json_path or '$'!r} selects no text "
                                          f"({json_type(values[0])} found); point it at the keyword strings")
    return keywords, skipped + malformed


def _json_values(source: Source, document: Any) -> tuple[list[Any], int]:
    if source.json_path:
        try:
            return select_json(document, source.json_path)
        except (LookupError, ValueError) as error:
            raise SourceError(source.address, f"JSON path {source.json_path!r}: {error}") from None
    if isinstance(document, list):
        return document, 0
    raise SourceError(source.address, "JSON is not a list of keywords; add '#path=...' to say where they "
                                      "are, e.g. #path=data.items[*].title")


def _texts_of(values: list[Any]) -> tuple[list[str], int]:
    # A list of strings is accepted as several keywords, so `trends[*].words` works without
    # a trailing [*]; booleans are not text even though Python counts them as ints.
    keywords, malformed = [], 0
    for value in values:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            keywords += [v for v in value if v.strip()]
            malformed += sum(1 for v in value if not v.strip())
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
            keywords.append(str(value))
        else:
            malformed += 1
    return keywords, malformed


def parse_csv_keywords(source: Source, text: str) -> tuple[list[str], int]:
    """One column of a CSV: the `column` option, else a header cell named like a keyword
    column (CSV_HEADER_NAMES), else the first column with no header."""
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise SourceError(source.address, f"not valid CSV ({error})") from None
    if not rows:
        return [], 0
    column, rows = _keyword_column(source, rows)
    keywords, malformed = [], 0
    for row in rows:
        if column < len(row) and row[column].strip():
            keywords.append(row[column])
        else:
            malformed += 1
    return keywords, malformed


def _keyword_column(source: Source, rows: list[list[str]]) -> tuple[int, list[list[str]]]:
    """The index of the keyword column, and the data rows (the header dropped when it named it)."""
    header = [cell.strip().lstrip("\ufeff").casefold() for cell in rows[0]]
    if source.column is None:
        named = next((i for i, cell in enumerate(header) if cell in CSV_HEADER_NAMES), None)
        return (0, rows) if named is None else (named, rows[1:])
    wanted = source.column.strip().casefold()
    if wanted in header:
        return header.index(wanted), rows[1:]
    # A number counts from 1, like a spreadsheet; every row is kept, since a first row that
    # does not name the column is data, not a header.
    if wanted.isdigit() and int(wanted) >= 1:
        return int(wanted) - 1, rows
    raise SourceError(source.address, f"no column {source.column!r} in the header ({', '.join(header)})")
