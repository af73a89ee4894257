"""Every place a user names a file refuses a FIFO or a device at once, in one line (issue #23
item 2): a spec, a job's image (its version), a template folder, a word list, weights to pin,
the trust registry. Each of these used to wait forever on a FIFO; the timeout makes a hang fail."""
import os
from pathlib import Path

import pytest

from clipmill.planning.templates import load_template_dir
from clipmill.spec import SpecError, load_spec, parse_spec
from clipmill.trending.wordlists import WordList
from clipmill.models.trust import TRUSTED_WEIGHTS_ENV, TrustRegistryError, file_sha256, load_registry
from clipmill.storage.user_files import UserFileError

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "named.pipe"
    os.mkfifo(path)
    return path


def test_a_spec_that_is_a_fifo(fifo):
    with pytest.raises(SpecError, match=r"named\.pipe: cannot read the spec \(is a FIFO \(named pipe\), not a regular"):
        load_spec(fifo)


def test_a_job_whose_image_is_special_gets_a_version_without_reading_it(tmp_path, fifo):
    zero = tmp_path / "zero.png"
    zero.symlink_to("/dev/zero")
    for image in (fifo, zero, tmp_path):
        job = parse_spec({"name": "b", "jobs": [{"id": "j", "prompt": "a cup", "image": str(image)}]}).jobs[0]
        assert len(job.version()) == 16  # counted by its path; the job's run records why it is refused


def test_a_job_image_is_hashed_once_while_unchanged(tmp_path, monkeypatch):
    import clipmill.storage.user_files as user_files
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"not decoded here")
    job = parse_spec({"name": "b", "jobs": [{"id": "j", "prompt": "a cup", "image": str(photo)}]}).jobs[0]
    reads = []
    real_read = user_files._read_limited
    monkeypatch.setattr(user_files, "_read_limited", lambda *a: reads.append(a[1]) or real_read(*a))
    user_files._digests.clear()
    versions = {job.version() for _ in range(3)}  # open-batch, open-job and the sidecar each ask
    assert len(versions) == 1 and len(reads) == 1


def test_a_template_folder_with_a_fifo(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    os.mkfifo(folder / "trap.yaml")
    with pytest.raises(ValueError, match=r"trap\.yaml: cannot read template \(is a FIFO"):
        load_template_dir(folder)


def test_a_word_list_that_is_a_device(tmp_path):
    words = tmp_path / "blocklist.txt"
    words.symlink_to("/dev/zero")
    with pytest.raises(UserFileError, match=r"blocklist\.txt: is a character device"):
        WordList.load(words)


def test_weights_and_the_trust_registry(tmp_path, fifo, monkeypatch):
    with pytest.raises(UserFileError, match="is a FIFO"):
        file_sha256(fifo)
    monkeypatch.setenv(TRUSTED_WEIGHTS_ENV, str(fifo))
    with pytest.raises(TrustRegistryError, match=r"cannot read it \(is a FIFO"):
        load_registry(fifo)
