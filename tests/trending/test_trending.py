"""Trending sources, screening and spec building, without Prefect: a real HTTP server on
127.0.0.1 serves the feeds, good and broken."""
from __future__ import annotations

import http.server
import json
import threading
import time
from pathlib import Path

import pytest
import yaml

from clipmill.spec import parse_spec
from clipmill.trending import (
    Keyword,
    SourceError,
    WordList,
    build_batch_spec,
    fetch_source,
    job_id,
    normalise,
    parse_json_path,
    parse_source,
    screen_keywords,
    select_json,
)

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Trends</title>
  <item><title>Air Fryer</title><link>https://x/1</link></item>
  <item><title><![CDATA[露营装备]]></title></item>
  <item><title>  Matcha   Latte </title></item>
  <item><link>https://x/no-title</link></item>
  <item><title>Tom &amp;amp; Jerry &lt;b&gt;live&lt;/b&gt;</title></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
  <entry><title>Wireless Earbuds</title><id>1</id></entry>
  <entry><title type="html">智能手表</title><id>2</id></entry>
</feed>"""

RDF = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
  <channel><title>c</title></channel><item><title>Yoga Mat</title></item>
</rdf:RDF>"""

API = {"data": {"items": [{"title": "Phone Case", "rank": 1}, {"title": "手机支架", "rank": 2}, {"rank": 3}]}}

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<rss version="2.0"><channel><item><title>&lol2;</title></item></channel></rss>"""

ROUTES: dict[str, tuple[int, str, bytes, float]] = {
    "/feed.rss": (200, "application/rss+xml", RSS.encode(), 0),
    "/atom": (200, "application/atom+xml", ATOM.encode(), 0),
    "/rdf": (200, "application/rdf+xml", RDF.encode(), 0),
    "/api": (200, "application/json", json.dumps(API, ensure_ascii=False).encode(), 0),
    "/list.json": (200, "application/json", json.dumps(["a", "b"]).encode(), 0),
    "/broken.rss": (200, "application/rss+xml", b"<rss><channel><item><title>x</item></channel>", 0),
    "/html": (200, "text/html", b"<html><body>not a feed</body></html>", 0),
    "/bad.json": (200, "application/json", b'{"data": [1, 2,', 0),
    "/laughs": (200, "application/xml", BILLION_LAUGHS.encode(), 0),
    "/huge": (200, "text/plain", b"keyword\n" * 40_000, 0),
    "/slow": (200, "text/plain", b"late keyword\n", 3.0),
    "/missing": (404, "text/plain", b"nope", 0),
    "/down": (503, "text/plain", b"busy", 0),
}


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        status, content_type, body, delay = ROUTES.get(self.path, (404, "text/plain", b"", 0))
        if self.path == "/redirect-ftp":
            self.send_response(302)
            self.send_header("Location", "ftp://127.0.0.1/feed")
            self.end_headers()
            return
        if self.path == "/chunked-huge":
            # No Content-Length: the limit must be enforced while streaming.
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            try:
                for _ in range(400):
                    self.wfile.write(b"x" * 8192 + b"\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


# --- addresses ---------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["file:///etc/passwd", "ftp://example.com/feed.xml", "gopher://x/1",
                                     "javascript:alert(1)"])
def test_only_http_and_local_paths_are_accepted(address):
    with pytest.raises(SourceError, match="not accepted"):
        fetch_source(address)


def test_unknown_fragment_option_is_refused():
    with pytest.raises(SourceError, match="unknown option.*colum"):
        parse_source("keywords.csv#colum=title")


def test_fragment_options_are_parsed():
    source = parse_source("https://api.example.com/trends?x=1#path=data.items[*].title")
    assert source.remote and source.location == "https://api.example.com/trends?x=1"
    assert source.json_path == "data.items[*].title"


# --- feeds over HTTP ---------------------------------------------------------------------------


def test_rss_titles_in_order_with_malformed_items_counted(server):
    result = fetch_source(f"{server}/feed.rss")
    assert result.format == "rss"
    assert result.keywords == ["Air Fryer", "露营装备", "Matcha   Latte", "Tom & Jerry live"]
    assert result.malformed == 1


def test_atom_and_rss1_feeds(server):
    assert fetch_source(f"{server}/atom").keywords == ["Wireless Earbuds", "智能手表"]
    assert fetch_source(f"{server}/rdf").keywords == ["Yoga Mat"]


def test_json_api_with_a_path_skips_an_item_without_the_key(server):
    result = fetch_source(f"{server}/api#path=data.items[*].title")
    assert result.keywords == ["Phone Case", "手机支架"]
    assert (result.format, result.malformed) == ("json", 1)


def test_json_path_that_no_item_matches_names_where_it_failed(server):
    with pytest.raises(SourceError, match=r"no element has it: \$\.data\.items\[0\] has no key 'name'"):
        fetch_source(f"{server}/api#path=data.items[*].name")


def test_json_list_without_a_path(server):
    assert fetch_source(f"{server}/list.json").keywords == ["a", "b"]


@pytest.mark.parametrize("path, message", [
    ("data.entries[*].title", r"\$\.data has no key 'entries' \(keys: items\)"),
    ("data.items.title", r"\$\.data\.items is a list, not an object"),
    ("data.items[7].title", r"out of range"),
    ("data.items[*]", r"selects no text"),
    ("data..items", r"empty key"),
])
def test_wrong_json_path_says_what_is_wrong(server, path, message):
    with pytest.raises(SourceError, match=message):
        fetch_source(f"{server}/api#path={path}")


def test_json_object_without_a_path_asks_for_one(server):
    with pytest.raises(SourceError, match="#path="):
        fetch_source(f"{server}/api")


@pytest.mark.parametrize("route, message", [
    ("/broken.rss", "not well-formed XML"),
    ("/html", "neither an RSS nor an Atom feed"),
    ("/bad.json", "not valid JSON"),
    ("/laughs", "refused unsafe XML"),
    ("/missing", "HTTP 404"),
])
def test_broken_sources_raise_one_line_errors(server, route, message):
    with pytest.raises(SourceError, match=message) as caught:
        fetch_source(f"{server}{route}", timeout=2)
    assert "\n" not in str(caught.value)
    assert not caught.value.transient


def test_server_errors_are_transient(server):
    with pytest.raises(SourceError, match="HTTP 503") as caught:
        fetch_source(f"{server}/down")
    assert caught.value.transient


def test_declared_oversized_body_is_refused(server):
    with pytest.raises(SourceError, match="over the 100000-byte limit"):
        fetch_source(f"{server}/huge", max_bytes=100_000)


def test_undeclared_oversized_body_stops_streaming(server):
    started = time.monotonic()
    with pytest.raises(SourceError, match="stopped reading"):
        fetch_source(f"{server}/chunked-huge", max_bytes=50_000)
    assert time.monotonic() - started < 2


def test_slow_response_times_out(server):
    started = time.monotonic()
    with pytest.raises(SourceError, match="timed out after 0.5 s") as caught:
        fetch_source(f"{server}/slow", timeout=0.5)
    assert caught.value.transient
    assert time.monotonic() - started < 2.5


def test_redirect_to_another_scheme_is_refused(server):
    with pytest.raises(SourceError):
        fetch_source(f"{server}/redirect-ftp")


# --- local files ---------------------------------------------------------------------------


def test_csv_uses_the_keyword_column_from_the_header(tmp_path):
    path = tmp_path / "trends.csv"
    path.write_text("rank,keyword,volume\n1,Air Fryer,900\n2,,100\n3,露营,50\n", encoding="utf-8")
    result = fetch_source(str(path))
    assert (result.keywords, result.malformed, result.format) == (["Air Fryer", "露营"], 1, "csv")


def test_csv_column_option_and_headerless_first_column(tmp_path):
    named = tmp_path / "a.csv"
    named.write_text("rank,name\n1,Yoga Mat\n", encoding="utf-8")
    assert fetch_source(f"{named}#column=name").keywords == ["Yoga Mat"]
    plain = tmp_path / "b.csv"
    plain.write_text("Phone Case,12\nDesk Lamp,3\n", encoding="utf-8")
    assert fetch_source(str(plain)).keywords == ["Phone Case", "Desk Lamp"]
    with pytest.raises(SourceError, match="no column 'title'"):
        fetch_source(f"{named}#column=title")


def test_text_file_skips_comments_but_keeps_hashtags(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("\ufeff# editor's picks\nAir Fryer\n\n#露营#\n  #\n", encoding="utf-8")
    assert fetch_source(str(path)).keywords == ["Air Fryer", "#露营#"]


def test_folder_reads_every_keyword_file_in_name_order(tmp_path):
    (tmp_path / "b.txt").write_text("second\n", encoding="utf-8")
    (tmp_path / "a.csv").write_text("keyword\nfirst\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored\n", encoding="utf-8")
    result = fetch_source(str(tmp_path))
    assert result.keywords == ["first", "second"] and result.files == 2


def test_missing_file_and_non_utf8_file(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        fetch_source(str(tmp_path / "nope.txt"))
    latin = tmp_path / "latin.txt"
    latin.write_bytes("café\n".encode("latin-1"))
    with pytest.raises(SourceError, match="not UTF-8"):
        fetch_source(str(latin))


def test_local_file_over_the_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("k\n" * 1000)
    with pytest.raises(SourceError, match="over the 100-byte limit"):
        fetch_source(str(path), max_bytes=100)


# --- normalising and screening ------------------------------------------------------------------


@pytest.mark.parametrize("raw, display, normalised", [
    ("  Air   Fryer ", "Air Fryer", "air fryer"),
    ("ＡＩ手机", "AI手机", "ai手机"),                 # full-width letters (NFKC)
    ("air\u200bfryer", "airfryer", "airfryer"),      # zero-width space
    ("#露营#", "露营", "露营"),
    ("Straße", "Straße", "strasse"),                 # casefold, not lower
    ("\u3000\t\n", "", ""),
])
def test_normalise(raw, display, normalised):
    assert normalise(raw) == (display, normalised)


def test_word_list_matches_whole_latin_words_and_chinese_substrings():
    words = WordList.of(["Gun", "赌博", "  "])
    assert words.terms == ("gun", "赌博")
    assert words.match("toy gun") == "gun"
    assert words.match("gunther's bakery") is None
    assert words.match("线上赌博平台") == "赌博"
    assert WordList.of(["ＧＵＮ"]).match("nerf gun")  # terms are normalised too


def test_word_list_file(tmp_path):
    path = tmp_path / "block.txt"
    path.write_text("# brand safety\nweapon\n\n赌博\n", encoding="utf-8")
    assert WordList.load(path).terms == ("weapon", "赌博")


def test_screen_keeps_the_first_of_duplicates_and_explains_the_rest():
    fetched = [("s1", "Air Fryer"), ("s2", "air  fryer"), ("s1", "toy gun"), ("s1", "Yoga Mat"),
               ("s1", "Desk Lamp"), ("s1", "   "), ("s1", "x" * 200), ("s1", "Phone Case")]
    decisions = screen_keywords(fetched, seen={"phone case"}, blocklist=WordList.of(["gun"]),
                                allowlist=WordList.of(["fryer", "mat", "gun", "case"]))
    assert [(d.keyword.display, d.status) for d in decisions] == [
        ("Air Fryer", "new"), ("air fryer", "duplicate"), ("toy gun", "blocked"), ("Yoga Mat", "new"),
        ("Desk Lamp", "filtered"), ("", "invalid"), ("x" * 200, "invalid"), ("Phone Case", "seen"),
    ]
    assert decisions[2].reason == "blocklist term 'gun'"


# --- jobs -----------------------------------------------------------------------------------------


def test_job_ids_are_valid_readable_and_distinct():
    air = job_id(Keyword("Air Fryer", "air fryer", "s"), "trending-short")
    assert air == "air-fryer-trending-short"
    chinese = job_id(Keyword("露营装备", "露营装备", "s"), "trending-short")
    assert chinese.startswith("kw-") and chinese.endswith("-trending-short")
    clash = job_id(Keyword("air-fryer", "air-fryer", "s"), "trending-short", taken={air})
    assert clash != air and clash.startswith("air-fryer-")
    long = job_id(Keyword("w " * 60, " ".join(["w"] * 60), "s"), "product-showcase")
    assert len(long) <= 64


def test_batch_spec_has_a_job_per_keyword_and_template_and_validates():
    keywords = [Keyword("Air Fryer", "air fryer", "s"), Keyword("露营装备", "露营装备", "s")]
    skeleton = {"models": {"detector": "random"}, "defaults": {"model": "tiny", "width": 64, "height": 64,
                                                                "frames": 9}}
    spec, job_keys = build_batch_spec(keywords, ["trending-short", "product-showcase"], name="trending-x",
                                      skeleton=skeleton)
    batch = parse_spec(yaml.safe_load(yaml.safe_dump(spec, allow_unicode=True)))
    assert [(j.keyword, j.template, j.width) for j in batch.jobs] == [
        ("Air Fryer", "trending-short", 64), ("Air Fryer", "product-showcase", 64),
        ("露营装备", "trending-short", 64), ("露营装备", "product-showcase", 64)]
    assert job_keys["air fryer"] == ["air-fryer-trending-short", "air-fryer-product-showcase"]
    assert batch.models.detector == "random"


@pytest.mark.parametrize("templates, skeleton, message", [
    (["viral"], {}, "unknown template 'viral'"),
    ([], {}, "no templates"),
    (["trending-short"], {"defaults": {"frames": 10}}, "frames=10"),
    (["trending-short"], {"model": "tiny"}, "unknown field"),
])
def test_bad_spec_inputs_are_refused(templates, skeleton, message):
    with pytest.raises(ValueError, match=message):
        build_batch_spec([Keyword("Air Fryer", "air fryer", "s")], templates, name="t", skeleton=skeleton)


def test_json_path_syntax():
    assert parse_json_path("data.items[*].title") == ["data", "items", "*", "title"]
    assert select_json({"a": [[1, 2], [3]]}, "a[*][-1]") == ([2, 3], 0)
    assert select_json({"a": [[1, 2], []]}, "a[*][1]") == ([2], 1)
    for bad in ["", "a.", "a[x]", "a]b", "a[*]b"]:
        with pytest.raises(ValueError):
            parse_json_path(bad)
