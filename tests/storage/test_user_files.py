"""Reading a file a user named: special files refused at once, size limits before reading,
one hash per file per process. Every test has a timeout: the faults here used to hang."""
import hashlib
import os
import socket
import threading

import pytest

from clipmill.storage import user_files
from clipmill.storage.user_files import (
    UserFileError,
    check_user_file,
    open_user_file,
    read_user_bytes,
    read_user_text,
    user_file_sha256,
)

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "photo.jpg"
    os.mkfifo(path)
    return path


@pytest.fixture
def zero_link(tmp_path):
    path = tmp_path / "zero.png"
    path.symlink_to("/dev/zero")
    return path


def test_a_fifo_is_refused_at_once_without_waiting_for_a_writer(fifo):
    for read in (read_user_bytes, user_file_sha256, check_user_file):
        with pytest.raises(UserFileError) as caught:
            read(fifo, kind="image")
        assert str(caught.value) == f"{fifo}: is a FIFO (named pipe), not a regular file; give a regular image file"


def test_a_symlink_to_dev_zero_is_refused_naming_where_it_leads(zero_link):
    with pytest.raises(UserFileError) as caught:
        user_file_sha256(zero_link, kind="image")
    message = str(caught.value)
    assert message.startswith(f"{zero_link}: is a character device (the symlink leads to /dev/zero)")
    assert "\n" not in message


def test_a_directory_a_socket_and_a_missing_file_are_refused(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    with pytest.raises(UserFileError, match="is a directory, not a regular file"):
        read_user_bytes(folder, kind="image")
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "sock"))
        with pytest.raises(UserFileError, match="is a socket"):
            read_user_bytes(tmp_path / "sock", kind="text")
    finally:
        server.close()
    with pytest.raises(UserFileError, match="missing.png: file not found$"):
        read_user_bytes(tmp_path / "missing.png", kind="image")


def test_a_swap_between_the_check_and_the_open_is_caught_on_the_descriptor(tmp_path, monkeypatch):
    """The path is a regular file when checked and a FIFO when opened: the open must neither
    block (O_NONBLOCK) nor read it (fstat on the opened descriptor)."""
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"jpeg")
    checked = user_files.check_user_file

    def check_then_swap(named, **options):
        info = checked(named, **options)
        os.unlink(named)
        os.mkfifo(named)
        return info

    monkeypatch.setattr(user_files, "check_user_file", check_then_swap)
    with pytest.raises(UserFileError, match="is a FIFO"):
        read_user_bytes(path, kind="image")


def test_the_size_limit_is_enforced_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.png"
    with open(path, "wb") as handle:  # sparse: 60 MiB that cost no disk
        handle.truncate(60 * 2**20)
    reads = []
    real_read = user_files._read_limited
    monkeypatch.setattr(user_files, "_read_limited", lambda *a: reads.append(a) or real_read(*a))
    with pytest.raises(UserFileError, match=r"file is 60.0 MiB, over the 50.0 MiB limit for image files$"):
        user_file_sha256(path, kind="image")
    assert reads == []
    with pytest.raises(UserFileError, match="file is 60.0 MiB, over the 10-byte limit for text files"):
        read_user_bytes(path, kind="text", max_bytes=10)


def test_a_file_that_grows_while_read_stops_at_the_limit(tmp_path, monkeypatch):
    path = tmp_path / "words.txt"
    path.write_bytes(b"a" * 10)
    with open_user_file(path, kind="text", max_bytes=16) as handle:
        path.write_bytes(b"a" * 100)  # the same inode, rewritten longer after the checks
        with pytest.raises(UserFileError, match="grew past"):
            b"".join(user_files._read_limited(handle, path, "text", 16))


def test_reads_the_bytes_and_the_text(tmp_path):
    path = tmp_path / "keywords.txt"
    path.write_bytes("\ufeff露营\nhiking\n".encode("utf-8"))
    assert read_user_text(path, kind="text") == "露营\nhiking\n"
    assert read_user_bytes(path, kind="text").startswith(b"\xef\xbb\xbf")
    path.write_bytes(b"\xff\xfe bad")
    with pytest.raises(UserFileError, match="not UTF-8 text"):
        read_user_text(path, kind="text")


def test_a_file_is_hashed_once_until_it_changes(tmp_path, monkeypatch):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"first version")
    hashed = []
    real_sha256 = hashlib.sha256
    monkeypatch.setattr(user_files.hashlib, "sha256", lambda *a: hashed.append(1) or real_sha256(*a))

    first = user_file_sha256(path, kind="image")
    assert first == real_sha256(b"first version").hexdigest()
    assert user_file_sha256(path, kind="image") == first
    assert user_file_sha256(str(path), kind="image") == first
    assert len(hashed) == 1, "an unchanged file is read once"

    path.write_bytes(b"second version, longer")
    assert user_file_sha256(path, kind="image") == real_sha256(b"second version, longer").hexdigest()
    assert len(hashed) == 2


def test_concurrent_hashes_of_one_file_agree(tmp_path):
    path = tmp_path / "weights.safetensors"
    path.write_bytes(os.urandom(3 * 2**20))
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    results = []
    threads = [threading.Thread(target=lambda: results.append(user_file_sha256(path, kind="weights")))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4


def test_an_unknown_kind_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError, match="unknown kind of file 'photo'"):
        read_user_bytes(tmp_path / "x", kind="photo")
