"""The artifact store on a local folder and on fsspec's in-memory filesystem (a remote store's
code path: no temporary names, URLs with a scheme), and its errors for unusable URLs."""
import sys
import uuid

import fsspec
import pytest
from fsspec.registry import _registry

from clipmill.storage.artifacts import ENV_VAR, ArtifactStore, artifact_base_url


def test_local_store_urls_are_absolute_paths_and_writes_are_atomic(tmp_path):
    store = ArtifactStore.for_batch(tmp_path / "runs", "b")
    assert store.local and store.url == str(tmp_path / "runs" / "b")

    source = tmp_path / "scratch.mp4"
    source.write_bytes(b"\x00\x00\x00\x18ftypisom")
    url = store.put_file(source, "clips/a.mp4")
    assert url == str(tmp_path / "runs" / "b" / "clips" / "a.mp4")
    assert (tmp_path / "runs" / "b" / "clips" / "a.mp4").read_bytes() == source.read_bytes()
    assert store.put_text("{}", "report.json") == store.url_for("report.json")
    assert store.read_bytes("report.json") == b"{}" and store.exists("clips/a.mp4")
    assert not store.exists("clips/missing.mp4")
    # Nothing but the finished files: temporary names are renamed away.
    assert sorted(p.name for p in (tmp_path / "runs" / "b").rglob("*")) == ["a.mp4", "clips", "report.json"]


def test_a_file_already_in_the_local_store_stays_where_it_is(tmp_path):
    """The default store is the run folder: an attempt's MP4 is published where it was encoded."""
    store = ArtifactStore(tmp_path)
    clip = tmp_path / "jobs" / "a" / "attempt-1" / "clip.mp4"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"mp4")
    assert store.put_file(clip, "jobs/a/attempt-1/clip.mp4") == str(clip)
    assert clip.read_bytes() == b"mp4" and sorted(p.name for p in clip.parent.iterdir()) == ["clip.mp4"]


def test_file_urls_and_home_folders_are_local_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert ArtifactStore(f"file://{tmp_path}/art").url == f"{tmp_path}/art"
    assert ArtifactStore("~/art").url == f"{tmp_path}/art"


def test_memory_store_writes_objects_under_its_prefix_and_returns_urls(tmp_path):
    prefix = f"bucket-{uuid.uuid4().hex[:8]}"
    store = ArtifactStore.for_batch(f"memory://{prefix}/clipmill", "b")
    assert not store.local
    assert store.url == f"memory:///{prefix}/clipmill/b"

    source = tmp_path / "poster.png"
    source.write_bytes(b"\x89PNG poster")
    url = store.put_file(source, "clips/a.png")
    assert url == f"memory:///{prefix}/clipmill/b/clips/a.png"
    with fsspec.open(url, "rb") as handle:  # the URL alone finds the object
        assert handle.read() == b"\x89PNG poster"
    assert store.put_bytes(b"\x01\x02", "jobs/a/attempt-1/clip.mp4").endswith("/b/jobs/a/attempt-1/clip.mp4")
    assert store.put_text("<html>é</html>", "index.html") == store.url_for("index.html")
    assert store.read_bytes("index.html") == "<html>é</html>".encode()
    assert store.exists("jobs/a/attempt-1/clip.mp4") and not store.exists("clips/b.mp4")
    assert sorted(fsspec.filesystem("memory").find(f"/{prefix}")) == [
        f"/{prefix}/clipmill/b/clips/a.png", f"/{prefix}/clipmill/b/index.html",
        f"/{prefix}/clipmill/b/jobs/a/attempt-1/clip.mp4"]


def test_a_missing_filesystem_package_is_named_with_its_install_command(monkeypatch):
    # As if s3fs were not installed: fsspec forgets the loaded class and cannot import the package.
    monkeypatch.delitem(_registry, "s3", raising=False)
    monkeypatch.setitem(sys.modules, "s3fs", None)
    with pytest.raises(ValueError, match=r"^artifact URL s3://bucket/clips needs s3fs: pip install 'clipmill\[s3\]'$"):
        ArtifactStore("s3://bucket/clips")


@pytest.mark.parametrize("url, message", [
    ("nosuchfs://bucket/x", r"artifact URL nosuchfs://bucket/x: Protocol not known: nosuchfs"),
    ("memory://", r"artifact URL memory:// names no bucket or folder"),
    ("  ", r"artifact URL is empty"),
])
def test_unusable_urls_are_refused_with_the_url_named(url, message):
    with pytest.raises(ValueError, match=message):
        ArtifactStore(url)


def test_the_base_url_is_the_flow_parameter_then_the_spec_then_the_environment_then_the_run_root(
        tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert artifact_base_url(None, None, tmp_path / "runs") == str(tmp_path / "runs")
    monkeypatch.setenv(ENV_VAR, "memory://env/clipmill")
    assert artifact_base_url(None, None, tmp_path) == "memory:///env/clipmill"
    assert artifact_base_url(None, "memory://spec/clipmill", tmp_path) == "memory:///spec/clipmill"
    assert artifact_base_url(str(tmp_path / "art"), "memory://spec/clipmill", tmp_path) == str(tmp_path / "art")
    with pytest.raises(ValueError, match="nosuchfs"):
        artifact_base_url("nosuchfs://x/y", None, tmp_path)


def test_published_files_follow_the_umask_not_the_temporary_files_0600(tmp_path):
    import os
    import stat

    from clipmill.storage.files import atomic_write_text, remove_stale_temporaries

    previous = os.umask(0o022)
    try:
        written = atomic_write_text(tmp_path / "clips" / "a.json", "{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    (tmp_path / "clips" / ".a.x1y2.tmp.mp4").write_bytes(b"half an mp4")
    assert remove_stale_temporaries(tmp_path) == 1 and [p.name for p in (tmp_path / "clips").iterdir()] == ["a.json"]
