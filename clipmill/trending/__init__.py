"""Trending keywords: fetch them from the sources content teams have, clean them, screen them,
and pour them into templates as a batch spec.

Sources are addressed by a string, an http(s) URL or a local path, with options in the
fragment (never sent to a server):

    https://example.com/feed.xml                      RSS 2.0, RSS 1.0 (RDF) or Atom: item/entry titles
    https://api.example.com/trends#path=data.items[*].title
                                                      JSON; `path` picks the keywords (json_path.py)
    /data/keywords.csv#column=keyword                 CSV: that column (default: a header cell named
                                                      keyword/title/term/topic/关键词/热词, else column 1)
    /data/keywords.txt                                text: one keyword a line; '# ' starts a comment
    /data/trending/                                   a folder: every .csv .txt .json .xml .rss .atom in it

Where each step lives: addressing.py (addresses), fetching.py and download.py (reading a
source within its limits), feeds.py and documents.py (formats), keywords.py, wordlists.py
and screening.py (what becomes a job), specs.py (the batch spec).

No Prefect here: tasks/trending.py wraps these functions.
"""
from clipmill.trending.addressing import Source, SourceError, parse_source
from clipmill.trending.documents import CSV_HEADER_NAMES
from clipmill.trending.download import USER_AGENT
from clipmill.trending.feeds import parse_xml
from clipmill.trending.fetching import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT_S,
    FILE_SUFFIXES,
    FetchResult,
    fetch_source,
)
from clipmill.trending.json_path import parse_json_path, select_json
from clipmill.trending.keywords import Keyword, normalise
from clipmill.trending.screening import MAX_KEYWORD_CHARS, Decision, ScreeningStatus, screen_keywords
from clipmill.trending.specs import TrendingBatch, build_batch_spec, check_name_prefix, job_id
from clipmill.trending.wordlists import WordList

__all__ = [
    "CSV_HEADER_NAMES",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT_S",
    "FILE_SUFFIXES",
    "MAX_KEYWORD_CHARS",
    "USER_AGENT",
    "Decision",
    "FetchResult",
    "Keyword",
    "Source",
    "ScreeningStatus",
    "SourceError",
    "TrendingBatch",
    "WordList",
    "build_batch_spec",
    "check_name_prefix",
    "fetch_source",
    "job_id",
    "normalise",
    "parse_json_path",
    "parse_source",
    "parse_xml",
    "screen_keywords",
    "select_json",
]
