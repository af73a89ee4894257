"""Local keyword sources get the limits a URL gets: a FIFO, a device or a socket is refused at
once, a regular file is read within the byte limit and the deadline."""
from __future__ import annotations

import os
import socket
import sys
import threading
from pathlib import Path

import pytest

import clipmill.trending.fetching as fetching
import clipmill.storage.user_files as user_files
from clipmill.trending import FetchResult, SourceError, fetch_source

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev are POSIX")

_WAIT_S = 10.0


def fetch_or_fail_on_hang(address: str, fifo: Path | None = None, **options) -> FetchResult | SourceError:
    """fetch_source in a thread, so a hang fails the test instead of stalling the run. When it
    hangs on `fifo`, a writer is opened on it to let the reading thread go before failing."""
    outcome: list = []

    def target() -> None:
        try:
            outcome.append(fetch_source(address, **options))
        except SourceError as error:
            outcome.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(_WAIT_S)
    if thread.is_alive():
        if fifo is not None:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            thread.join(_WAIT_S)
        pytest.fail(f"fetch_source({address!r}) still reading after {_WAIT_S:g} s")
    return outcome[0]


def test_a_fifo_is_refused_at_once_in_one_line(tmp_path):
    fifo = tmp_path / "keywords.txt"
    os.mkfifo(fifo)
    outcome = fetch_or_fail_on_hang(str(fifo), fifo)
    assert isinstance(outcome, SourceError)
    assert "FIFO" in str(outcome) and "not a regular file" in str(outcome)
    assert str(outcome).startswith(str(fifo)) and "\n" not in str(outcome)
    assert outcome.transient is False  # a retry will not turn it into a file


def test_a_link_to_a_fifo_is_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "keywords.csv"
    link.symlink_to(fifo)
    outcome = fetch_or_fail_on_hang(str(link), fifo)
    assert isinstance(outcome, SourceError) and "FIFO" in str(outcome)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_an_endless_device_is_refused_not_read(tmp_path):
    outcome = fetch_or_fail_on_hang("/dev/zero")
    assert isinstance(outcome, SourceError) and "device" in str(outcome)
    link = tmp_path / "trends.txt"
    link.symlink_to("/dev/zero")
    outcome = fetch_or_fail_on_hang(str(link))
    assert isinstance(outcome, SourceError) and "device" in str(outcome)


def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s.txt"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        outcome = fetch_or_fail_on_hang(str(path))
    finally:
        server.close()
    assert isinstance(outcome, SourceError) and "a socket" in str(outcome)


def test_a_fifo_in_a_folder_is_passed_over(tmp_path):
    os.mkfifo(tmp_path / "a.txt")
    (tmp_path / "b.txt").write_text("Air Fryer\n", encoding="utf-8")
    outcome = fetch_or_fail_on_hang(str(tmp_path), tmp_path / "a.txt")
    assert isinstance(outcome, FetchResult)
    assert outcome.keywords == ["Air Fryer"] and outcome.files == 1


def test_a_path_swapped_for_a_fifo_after_the_check_is_still_refused(tmp_path, monkeypatch):
    """The kind is checked again on the opened descriptor, and the open itself never waits."""
    fifo = tmp_path / "keywords.txt"
    os.mkfifo(fifo)
    regular = os.stat(__file__)
    real_stat = os.stat
    monkeypatch.setattr(user_files.os, "stat", lambda path, *a, **k: regular if Path(path) == fifo else real_stat(path, *a, **k))
    outcome = fetch_or_fail_on_hang(str(fifo), fifo)
    assert isinstance(outcome, SourceError) and "FIFO" in str(outcome)


class _Clock:
    """time.monotonic that moves one second every time it is read."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        self.now += 1.0
        return self.now


def test_a_slow_local_file_times_out_like_a_url(tmp_path, monkeypatch):
    path = tmp_path / "slow.txt"
    path.write_text("Air Fryer\n" * 10, encoding="utf-8")
    monkeypatch.setattr(fetching, "_READ_CHUNK", 4)  # many reads, each a second on the fake clock
    monkeypatch.setattr(fetching, "time", _Clock())
    with pytest.raises(SourceError, match=r"timed out after 5 s") as caught:
        fetch_source(str(path), timeout=5)
    assert caught.value.transient is True


def test_the_deadline_covers_a_whole_folder(tmp_path, monkeypatch):
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(f"{name}\n", encoding="utf-8")
    monkeypatch.setattr(fetching, "time", _Clock())
    with pytest.raises(SourceError, match=r"c\.txt: timed out after 4 s"):
        fetch_source(str(tmp_path), timeout=4)


def test_the_byte_limit_holds_when_read_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(fetching, "_READ_CHUNK", 7)
    path = tmp_path / "k.txt"
    path.write_bytes(b"k\n" * 50)  # 100 bytes
    assert len(fetch_source(str(path), max_bytes=100).keywords) == 50
    with pytest.raises(SourceError, match="over the 99-byte limit"):
        fetch_source(str(path), max_bytes=99)
