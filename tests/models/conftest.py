"""Shared fixtures for the model adapter tests: tiny models, built once per session."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from clipmill.models.cache import clear_model_cache

TINY_CLIP_NAME = "clipmill-test-tiny-clip"
_TINY_CLIP_CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


@pytest.fixture(scope="session", autouse=True)
def _isolated_clipmill_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep files the adapters write (ultralytics settings, fonts) out of the home folder."""
    mp = pytest.MonkeyPatch()
    cache = tmp_path_factory.mktemp("clipmill-cache")
    mp.setenv("CLIPMILL_CACHE", str(cache))
    mp.setenv("YOLO_CONFIG_DIR", str(cache / "ultralytics"))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny TI2V-5B-form pipeline saved in the layout of a real Wan2.2 checkpoint."""
    from clipmill.models.tiny_wan import save_tiny_pipeline

    return save_tiny_pipeline(tmp_path_factory.mktemp("tiny-ti2v"))


@pytest.fixture(scope="session")
def tiny_a14b_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny two-expert text-to-video (T2V-A14B-form) pipeline saved like a real checkpoint."""
    from clipmill.models.tiny_wan import save_tiny_pipeline

    return save_tiny_pipeline(tmp_path_factory.mktemp("tiny-t2v-a14b"), form="t2v-a14b")


@pytest.fixture(scope="session")
def tiny_i2v_a14b_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny two-expert image-to-video (I2V-A14B-form) pipeline saved like a real checkpoint."""
    from clipmill.models.tiny_wan import save_tiny_pipeline

    return save_tiny_pipeline(tmp_path_factory.mktemp("tiny-i2v-a14b"), form="i2v-a14b")


@pytest.fixture(scope="session")
def tiny_generator():
    from clipmill.models.wan import load_generator

    return load_generator("tiny")


@pytest.fixture(scope="session")
def tiny_clip_name(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Register a tiny open_clip architecture so CLIP tests do not build a 150M-parameter ViT-B-32."""
    import open_clip

    folder = tmp_path_factory.mktemp("open-clip-configs")
    (folder / f"{TINY_CLIP_NAME}.json").write_text(json.dumps(_TINY_CLIP_CONFIG))
    open_clip.add_model_config(folder)
    return TINY_CLIP_NAME


@pytest.fixture
def fresh_cache():
    """Start and end a test with an empty model cache."""
    clear_model_cache()
    yield
    clear_model_cache()
