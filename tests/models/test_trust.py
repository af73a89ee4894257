"""Weights files that could run code load only when pinned by sha256 (models/trust.py), through
the real loaders: YOLO .pt, CLIP checkpoints; safetensors and random models need no pin."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import yaml

from clipmill.spec import SpecError, parse_spec
from clipmill.models.clip import load_clip_scorer
from clipmill.models.detector import load_detector
from clipmill.models.trust import (
    TRUSTED_WEIGHTS_ENV,
    TrustRegistryError,
    UntrustedWeightsError,
    command_line_pins,
    file_sha256,
    normalise_sha256,
    require_trusted,
)
from tests.models.hostile_weights import write_hostile_checkpoint


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def _no_registry(monkeypatch):
    monkeypatch.delenv(TRUSTED_WEIGHTS_ENV, raising=False)


@pytest.fixture(scope="module")
def yolo_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("yolo-trust") / "random-yolov8n.pt"
    load_detector("random").model.save(str(path))
    return path


@pytest.fixture
def hostile(tmp_path) -> tuple[Path, Path]:
    marker = tmp_path / "code-ran"
    return write_hostile_checkpoint(tmp_path / "evil.pt", marker), marker


def test_the_hostile_file_really_runs_code_when_unpickled(tmp_path):
    """The payload the other tests feed the loaders is live: unpickled, it makes its marker."""
    import torch

    marker = tmp_path / "code-ran"
    torch.load(write_hostile_checkpoint(tmp_path / "evil.pt", marker), weights_only=False)
    assert marker.exists()


# --- YOLO ---------------------------------------------------------------------------------------


def test_an_unpinned_detector_file_is_refused_in_one_line_that_says_how_to_pin_it(yolo_file, fresh_cache):
    with pytest.raises(UntrustedWeightsError) as caught:
        load_detector(str(yolo_file))
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)  # the pipeline records it as a bad input
    assert str(yolo_file) in message and sha256_of(yolo_file) in message
    assert "not pinned" in message and "trusted_weights" in message and TRUSTED_WEIGHTS_ENV in message
    assert "\n" not in message
    assert caught.value.sha256 == sha256_of(yolo_file) and caught.value.pinned is None


def test_a_hostile_detector_file_never_runs_when_unpinned(hostile, fresh_cache):
    evil, marker = hostile
    with pytest.raises(UntrustedWeightsError, match="evil.pt"):
        load_detector(str(evil))
    assert not marker.exists()


def test_a_wrong_sha256_is_refused(yolo_file, fresh_cache):
    wrong = "0" * 64
    with pytest.raises(UntrustedWeightsError) as caught:
        load_detector(str(yolo_file), trusted={str(yolo_file): wrong})
    message = str(caught.value)
    assert sha256_of(yolo_file) in message and wrong in message and "spec's models.trusted_weights" in message
    assert caught.value.pinned == wrong


def test_a_pinned_detector_loads_and_any_spelling_of_its_path_pins_it(yolo_file, fresh_cache, monkeypatch):
    detector = load_detector(str(yolo_file), trusted={str(yolo_file): sha256_of(yolo_file)})
    assert detector.random_weights is True and detector.class_names[0] == "person"
    monkeypatch.chdir(yolo_file.parent)
    # The pin as a spec would write it (relative, with "sha256:"), the file named another way.
    again = load_detector(f"./{yolo_file.name}", trusted={yolo_file.name: f"sha256:{sha256_of(yolo_file).upper()}"})
    assert again is detector  # same content, same cached model


def test_a_cached_model_is_no_way_around_the_pin(yolo_file, fresh_cache):
    load_detector(str(yolo_file), trusted={str(yolo_file): sha256_of(yolo_file)})
    with pytest.raises(UntrustedWeightsError):
        load_detector(str(yolo_file))


def test_a_file_changed_after_pinning_is_refused(yolo_file, tmp_path, fresh_cache):
    copy = tmp_path / "detector.pt"
    shutil.copyfile(yolo_file, copy)
    pins = {str(copy): sha256_of(copy)}
    load_detector(str(copy), trusted=pins)
    with copy.open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(UntrustedWeightsError, match="not the file that was pinned"):
        load_detector(str(copy), trusted=pins)


# --- the registry file ----------------------------------------------------------------------


def test_the_registry_file_pins_by_absolute_or_relative_path(yolo_file, tmp_path, monkeypatch, fresh_cache):
    registry = tmp_path / "trusted.yaml"
    registry.write_text(yaml.safe_dump({str(yolo_file): sha256_of(yolo_file)}))
    monkeypatch.setenv(TRUSTED_WEIGHTS_ENV, str(registry))
    assert load_detector(str(yolo_file)).random_weights is True

    local = tmp_path / "models" / "yolo.pt"
    local.parent.mkdir()
    shutil.copyfile(yolo_file, local)
    registry.write_text(f"models/yolo.pt: sha256:{sha256_of(local)}\n")  # relative to the registry's folder
    assert load_detector(str(local)).random_weights is True


def test_the_registry_does_not_pin_other_files_and_a_wrong_entry_says_where_it_is(yolo_file, hostile, tmp_path,
                                                                                 monkeypatch, fresh_cache):
    evil, marker = hostile
    registry = tmp_path / "trusted.yaml"
    registry.write_text(yaml.safe_dump({str(yolo_file): sha256_of(yolo_file), str(evil): "1" * 64}))
    monkeypatch.setenv(TRUSTED_WEIGHTS_ENV, str(registry))
    with pytest.raises(UntrustedWeightsError, match=f"pinned in {TRUSTED_WEIGHTS_ENV}={registry}"):
        load_detector(str(evil))
    assert not marker.exists()


@pytest.mark.parametrize("content, words", [
    ("[a, b]", "must be a mapping"),
    ("x.pt: nothex\n", "entry 'x.pt'"),
    ("x.pt: [unclosed\n", "not valid YAML"),
])
def test_a_broken_registry_is_one_line(content, words, yolo_file, tmp_path, monkeypatch):
    registry = tmp_path / "trusted.yaml"
    registry.write_text(content)
    monkeypatch.setenv(TRUSTED_WEIGHTS_ENV, str(registry))
    with pytest.raises(TrustRegistryError, match=words) as caught:
        require_trusted(yolo_file)
    assert "\n" not in str(caught.value)
    monkeypatch.setenv(TRUSTED_WEIGHTS_ENV, str(tmp_path / "missing.yaml"))
    with pytest.raises(TrustRegistryError, match="cannot read"):
        require_trusted(yolo_file)


# --- CLIP -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clip_checkpoint(tiny_clip_name, tmp_path_factory) -> Path:
    import torch

    path = tmp_path_factory.mktemp("clip-trust") / "tiny-clip.pt"
    torch.save(load_clip_scorer(tiny_clip_name).model.state_dict(), path)
    return path


def test_a_clip_pickle_checkpoint_needs_a_pin(tiny_clip_name, clip_checkpoint, fresh_cache):
    with pytest.raises(UntrustedWeightsError, match=f"CLIP checkpoint {clip_checkpoint} .sha256 {sha256_of(clip_checkpoint)}"):
        load_clip_scorer(tiny_clip_name, str(clip_checkpoint))
    loaded = load_clip_scorer(tiny_clip_name, str(clip_checkpoint), trusted={str(clip_checkpoint): sha256_of(clip_checkpoint)})
    assert loaded.random_weights is False


def test_a_hostile_clip_checkpoint_never_runs_when_unpinned(tiny_clip_name, hostile, fresh_cache):
    evil, marker = hostile
    with pytest.raises(UntrustedWeightsError):
        load_clip_scorer(tiny_clip_name, str(evil))
    assert not marker.exists()


def test_a_safetensors_clip_checkpoint_needs_no_pin(tiny_clip_name, tmp_path, fresh_cache):
    from safetensors.torch import save_file

    state = {name: tensor.contiguous() for name, tensor in load_clip_scorer(tiny_clip_name).model.state_dict().items()}
    path = tmp_path / "tiny-clip.safetensors"
    save_file(state, path)
    assert load_clip_scorer(tiny_clip_name, str(path)).random_weights is False


# --- Wan: diffusers reads pickles with weights_only=True ---------------------------------------


def test_a_hostile_pickle_in_a_wan_checkpoint_folder_never_runs(tiny_folder, tmp_path, fresh_cache):
    """A Wan folder is loaded by diffusers and transformers, which unpickle .bin files with
    `weights_only=True` and run no code from the folder (trust_remote_code stays off): a
    pickle in place of the transformer's safetensors is refused, its code never runs."""
    import torch

    from clipmill.models.catalog import MODEL_SPECS
    from clipmill.models.wan_loading import ModelLoadError, load_pretrained

    folder = tmp_path / "wan"
    shutil.copytree(tiny_folder, folder)
    marker = tmp_path / "code-ran"
    for weights in (folder / "transformer").glob("*.safetensors"):
        weights.unlink()
    write_hostile_checkpoint(folder / "transformer" / "diffusion_pytorch_model.bin", marker)
    with pytest.raises(ModelLoadError):
        load_pretrained(MODEL_SPECS["wan2.2-ti2v-5b"], str(folder), torch.device("cpu"))
    assert not marker.exists()


# --- pins in a spec and on a command line --------------------------------------------------------


def test_a_spec_pins_weights_under_models(yolo_file):
    spec = parse_spec({"name": "b", "models": {"detector": str(yolo_file),
                                               "trusted_weights": {str(yolo_file): "SHA256:" + "AB" * 32}},
                       "jobs": [{"id": "j", "prompt": "a dog"}]})
    assert spec.models.trusted_weights == {str(yolo_file): "ab" * 32}
    with pytest.raises(SpecError, match=r"models.trusted_weights.*pin for 'x.pt'.*not a sha256"):
        parse_spec({"name": "b", "models": {"trusted_weights": {"x.pt": "abc"}}, "jobs": [{"id": "j", "prompt": "a"}]})


def test_command_line_pins_match_each_file_to_its_sha(yolo_file, clip_checkpoint):
    yolo_sha, clip_sha = sha256_of(yolo_file), sha256_of(clip_checkpoint)
    pins = command_line_pins([str(yolo_file), str(clip_checkpoint), "random", None], [clip_sha, yolo_sha])
    assert pins == {str(yolo_file): yolo_sha, str(clip_checkpoint): clip_sha}
    assert command_line_pins([str(yolo_file)], ["f" * 64]) == {str(yolo_file): "f" * 64}
    assert command_line_pins([str(yolo_file)], []) == {}
    with pytest.raises(ValueError, match="not a sha256"):
        command_line_pins([str(yolo_file)], ["xyz"])


def test_hashes_are_remembered_until_the_file_changes(tmp_path):
    path = tmp_path / "w.pt"
    path.write_bytes(b"a")
    assert file_sha256(path) == sha256_of(path)
    path.write_bytes(b"bb")
    assert file_sha256(path) == sha256_of(path)
    assert normalise_sha256(" sha256:" + "A" * 64) == "a" * 64
