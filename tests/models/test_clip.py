import numpy as np
import pytest
import torch
from PIL import Image

from clipmill.models.cache import clear_model_cache
from clipmill.models.clip import load_clip_scorer
from clipmill.models.trust import file_sha256
from tests.models.helpers import random_frames


@pytest.fixture(scope="module")
def scorer(tiny_clip_name):
    return load_clip_scorer(tiny_clip_name)


def pinned(checkpoint) -> dict[str, str]:
    """A pickle checkpoint loads only when pinned (models/trust.py): the pin a spec would carry."""
    return {str(checkpoint): file_sha256(checkpoint)}


def images(count: int) -> list[Image.Image]:
    return [Image.fromarray(frame) for frame in random_frames(count, seed=3)]


def test_random_scorer_says_so(scorer, tiny_clip_name):
    assert scorer.random_weights is True
    assert scorer.source == "random"
    assert scorer.model_name == tiny_clip_name
    assert load_clip_scorer(tiny_clip_name, "random") is scorer


def test_image_embeddings_are_unit_length(scorer):
    embeddings = scorer.image_embeddings(images(3))
    assert embeddings.shape == (3, 32)
    assert embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, rtol=1e-5)


def test_similarity_is_the_cosine_of_the_embeddings(scorer):
    image = images(1)[0]
    score = scorer.image_text_similarity(image, "a dog in a park")
    assert isinstance(score, float)
    assert -1.0 <= score <= 1.0
    expected = float(scorer.image_embeddings([image])[0] @ scorer.text_embedding("a dog in a park"))
    assert score == pytest.approx(expected)
    assert score != pytest.approx(scorer.image_text_similarity(image, "a red sports car at night"))


def test_text_video_similarity_averages_evenly_spaced_frames(scorer):
    frames = random_frames(10, seed=5)
    expected = np.mean([scorer.image_text_similarity(Image.fromarray(frames[i]), "a dog") for i in (0, 3, 6, 9)])
    assert scorer.text_video_similarity(frames, "a dog", samples=4) == pytest.approx(expected, abs=1e-6)
    # More samples than frames: every frame once.
    assert scorer.text_video_similarity(frames[:2], "a dog", samples=4) == pytest.approx(
        np.mean([scorer.image_text_similarity(Image.fromarray(f), "a dog") for f in frames[:2]]), abs=1e-6
    )
    with pytest.raises(ValueError, match="shape"):
        scorer.text_video_similarity(frames[0], "a dog")


def test_random_weights_are_reproducible(scorer, tiny_clip_name):
    image = images(1)[0]
    before = scorer.image_text_similarity(image, "a dog")
    clear_model_cache()
    rebuilt = load_clip_scorer(tiny_clip_name)
    assert rebuilt is not scorer
    assert rebuilt.image_text_similarity(image, "a dog") == pytest.approx(before, abs=1e-6)


def test_checkpoint_file_loads_the_same_model(scorer, tiny_clip_name, tmp_path):
    checkpoint = tmp_path / "tiny-clip.pt"
    torch.save(scorer.model.state_dict(), checkpoint)
    loaded = load_clip_scorer(tiny_clip_name, str(checkpoint), trusted=pinned(checkpoint))
    assert loaded is not scorer
    assert loaded.random_weights is False
    assert loaded.source == str(checkpoint.resolve())
    image = images(1)[0]
    assert loaded.image_text_similarity(image, "a dog") == pytest.approx(scorer.image_text_similarity(image, "a dog"), abs=1e-6)


def test_checkpoint_weights_are_the_file_s_not_a_fresh_init(scorer, tiny_clip_name, tmp_path):
    generator = torch.Generator().manual_seed(1)
    state = {
        name: tensor + 0.05 * torch.randn(tensor.shape, generator=generator) if tensor.is_floating_point() else tensor
        for name, tensor in scorer.model.state_dict().items()
    }
    checkpoint = tmp_path / "perturbed.pt"
    torch.save(state, checkpoint)
    loaded = load_clip_scorer(tiny_clip_name, str(checkpoint), trusted=pinned(checkpoint))
    for name, tensor in loaded.model.state_dict().items():
        torch.testing.assert_close(tensor, state[name], msg=name)
    image = images(1)[0]
    assert loaded.image_text_similarity(image, "a dog") != pytest.approx(scorer.image_text_similarity(image, "a dog"), abs=1e-6)


def test_missing_checkpoint_and_unknown_tag_are_refused(tiny_clip_name, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_clip_scorer(tiny_clip_name, str(tmp_path / "missing.pt"))
    with pytest.raises(ValueError, match="known tags"):
        load_clip_scorer("ViT-B-32", "no_such_tag_2099")
