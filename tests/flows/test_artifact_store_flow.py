"""The batch flow with its artifact store on S3 (moto's server on loopback stands in): clips,
posters, sidecars, attempt MP4s, input images, the report and the gallery land in the bucket,
the database records their s3:// URLs, scratch work stays local, and a second run resumes."""
import json
import urllib.request

import pytest
import yaml
from moto.server import ThreadedMotoServer
from s3fs import S3FileSystem

from clipmill.media import probe
from clipmill.storage.db import init_db, session_scope
from clipmill.storage.reports import batch_report
from tests.flows.conftest import run_batch
from tests.flows.test_batch_flow import spec_file

pytestmark = pytest.mark.slow

BUCKET = "clipmill-test"


@pytest.fixture
def s3(monkeypatch):
    """An S3 endpoint on 127.0.0.1 with one empty bucket; s3fs finds it through AWS_ENDPOINT_URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    S3FileSystem.clear_instance_cache()  # a cached filesystem would still point at another endpoint
    fs = S3FileSystem()
    fs.mkdir(BUCKET)
    yield fs
    S3FileSystem.clear_instance_cache()
    server.stop()


def test_batch_publishes_to_s3_and_records_urls(harness, tmp_path, s3, monkeypatch):
    spec = yaml.safe_load(spec_file(tmp_path).read_text())
    spec["name"] = "s3-test"
    spec["jobs"] = [job for job in spec["jobs"] if job["id"] in ("t2v", "i2v", "always-fails")]
    next(job for job in spec["jobs"] if job["id"] == "always-fails")["max_attempts"] = 1
    path = tmp_path / "s3.yaml"
    path.write_text(yaml.safe_dump(spec))
    monkeypatch.setenv("CLIPMILL_ARTIFACT_URL", f"s3://{BUCKET}/prefix")
    store = f"s3://{BUCKET}/prefix/s3-test"
    run_root = tmp_path / "runs"

    _, result = run_batch(path, run_root)
    assert {k: v["status"] for k, v in result["jobs"].items()} == {
        "t2v": "accepted", "i2v": "accepted", "always-fails": "failed"}
    assert result["jobs"]["t2v"]["clip"] == f"{store}/clips/t2v.mp4"
    assert (result["report"], result["gallery"]) == (f"{store}/report.json", f"{store}/index.html")

    with session_scope(init_db(result["database"])) as session:
        jobs = {j["key"]: j for j in batch_report(session, "s3-test")["jobs"]}
    urls = {(key, a["kind"], a["attempt"]): a["path"] for key, job in jobs.items() for a in job["artifacts"]}
    assert {k: v for k, v in urls.items() if k[0] == "t2v" and k[1] in ("clip", "poster", "sidecar")} == {
        ("t2v", "clip", None): f"{store}/clips/t2v.mp4",
        ("t2v", "poster", None): f"{store}/clips/t2v.png",
        ("t2v", "sidecar", None): f"{store}/clips/t2v.json"}
    assert urls[("t2v", "attempt_clip", 1)] == f"{store}/jobs/t2v/attempt-1/clip.mp4"
    assert urls[("always-fails", "attempt_clip", 1)] == f"{store}/jobs/always-fails/attempt-1/clip.mp4"
    assert urls[("always-fails", "attempt_poster", 1)] == f"{store}/jobs/always-fails/attempt-1/clip.png"
    assert urls[("i2v", "prepared_image", 1)] == f"{store}/jobs/i2v/input.png"
    published = {k: v for k, v in urls.items() if k[1] not in ("segment", "frames")}
    assert len(published) == 13 and all(s3.exists(url) for url in published.values())

    # The dashboard's cards link to presigned URLs: a browser cannot read s3:// (the database
    # and the summary keep the s3:// URL; a presigned one is a credential for a week).
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        posters = {a.key: a.data for a in client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(like_="clipmill-s3-test-%-poster")))}
    assert set(posters) == {f"clipmill-s3-test-{job}-poster" for job in ("t2v", "i2v", "always-fails")}
    for url in posters.values():
        assert url.startswith("http://127.0.0.1:") and "Signature=" in url, url
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200 and response.read(8) == b"\x89PNG\r\n\x1a\n", url

    # Scratch work stays on the worker, recorded by local path; published files are not copied there.
    scratch = [v for k, v in urls.items() if k[1] in ("segment", "frames")]
    assert scratch and all(p.startswith(str(run_root)) and p.endswith(".npy") for p in scratch)
    assert not (run_root / "s3-test" / "clips").exists()

    # What is in the bucket is what it claims to be: a playable MP4, a PNG poster, the sidecar.
    local_copy = tmp_path / "t2v.mp4"
    s3.get_file(f"{store}/clips/t2v.mp4", str(local_copy))
    assert local_copy.read_bytes()[4:8] == b"ftyp"
    info = probe(local_copy)
    assert (info.codec, info.pix_fmt, info.frames, info.width, info.height) == ("h264", "yuv420p", 9, 64, 64)
    assert s3.cat_file(f"{store}/clips/t2v.png")[:8] == b"\x89PNG\r\n\x1a\n"
    sidecar = json.loads(s3.cat_file(f"{store}/clips/t2v.json"))
    assert sidecar["job"]["id"] == "t2v" and sidecar["verdict"]["passed"] and sidecar["video"]["frames"] == 9

    # The report and the gallery sit beside the clips and link them relatively, so the gallery
    # plays wherever the bucket is served from.
    report = json.loads(s3.cat_file(f"{store}/report.json"))
    assert report["name"] == "s3-test" and report["counts"]["accepted"] == 2
    gallery = s3.cat_file(f"{store}/index.html").decode()
    assert 'src="clips/t2v.mp4" poster="clips/t2v.png"' in gallery
    assert 'src="clips/i2v.mp4"' in gallery and 'src="jobs/always-fails/attempt-1/clip.png"' in gallery
    assert "s3://" not in gallery and str(tmp_path) not in gallery

    # A run with --retry-failed: accepted jobs are skipped, the failed one is tried again into the store.
    _, again = run_batch(path, run_root, retry_failed=True)
    assert again["jobs"]["t2v"].get("resumed") and again["jobs"]["i2v"].get("resumed")
    with session_scope(init_db(result["database"])) as session:
        retried = {j["key"]: j for j in batch_report(session, "s3-test")["jobs"]}["always-fails"]
    assert [a["number"] for a in retried["attempts"]] == [1, 2]
    assert s3.exists(f"{store}/jobs/always-fails/attempt-2/clip.mp4")
