"""CLIP scores: how well an image or a clip matches a text.

The input gate compares a prepared reference image with its prompt before any GPU time is
spent, QA compares generated frames with the prompt, and image embeddings let later checks
measure how far a subject drifts between segments. One open_clip model serves all three.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import open_clip
import PIL.Image
import torch

from clipmill.models.cache import cached_model
from clipmill.models.devices import JUDGE, on_model_thread, pick_device
from clipmill.models.trust import needs_pin, require_trusted

RANDOM_SOURCE = "random"


class ClipScorer:
    """An open_clip model with its preprocessing and tokenizer.

    Attributes:
        model_name: The open_clip architecture, e.g. "ViT-B-32".
        source: "random", a checkpoint file path, or an open_clip pretrained tag.
        random_weights: True when the model is randomly initialised; its scores mean nothing
            and reports must say so.
        device: Where the model runs.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        preprocess: object,
        tokenizer: object,
        *,
        model_name: str,
        source: str,
        random_weights: bool,
        device: torch.device,
    ) -> None:
        self.model = model.eval()
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.model_name = model_name
        self.source = source
        self.random_weights = random_weights
        self.device = device

    def __repr__(self) -> str:
        weights = ", random weights" if self.random_weights else ""
        return f"ClipScorer({self.model_name!r}, source={self.source!r}{weights})"

    @on_model_thread(JUDGE)
    @torch.inference_mode()
    def image_embeddings(self, images: list[PIL.Image.Image]) -> np.ndarray:
        """Unit-length embeddings of `images`, shape (len(images), embed_dim), float32."""
        if not images:
            raise ValueError("image_embeddings needs at least one image")
        batch = torch.stack([self.preprocess(image.convert("RGB")) for image in images]).to(self.device)
        features = self.model.encode_image(batch, normalize=True)
        return features.float().cpu().numpy()

    @on_model_thread(JUDGE)
    @torch.inference_mode()
    def text_embedding(self, text: str) -> np.ndarray:
        """Unit-length embedding of `text`, shape (embed_dim,), float32."""
        tokens = self.tokenizer([text]).to(self.device)
        return self.model.encode_text(tokens, normalize=True)[0].float().cpu().numpy()

    def image_text_similarity(self, image: PIL.Image.Image, text: str) -> float:
        """Cosine similarity between `image` and `text` in CLIP space, in [-1, 1]."""
        return float(self.image_embeddings([image])[0] @ self.text_embedding(text))

    def text_video_similarity(self, frames: np.ndarray, text: str, *, samples: int = 4) -> float:
        """Mean cosine similarity between `text` and up to `samples` frames spread over the clip.

        Args:
            frames: uint8 RGB frames, shape (num_frames, height, width, 3).
            text: The prompt the clip should show.
            samples: How many frames to score, evenly spaced from first to last.
        """
        if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
            raise ValueError(f"frames must have shape (num_frames, height, width, 3), got {frames.shape}")
        if samples < 1:
            raise ValueError(f"samples={samples} must be at least 1")
        indices = np.unique(np.linspace(0, len(frames) - 1, num=min(samples, len(frames))).round().astype(int))
        images = [PIL.Image.fromarray(np.ascontiguousarray(frames[i])) for i in indices]
        return float(np.mean(self.image_embeddings(images) @ self.text_embedding(text)))


def _resolve_pretrained(model_name: str, pretrained: str | None) -> tuple[str | None, str]:
    """Map the `pretrained` argument to what open_clip takes, and the source to report."""
    if pretrained is None or pretrained == RANDOM_SOURCE:
        return None, RANDOM_SOURCE
    path = Path(pretrained).expanduser()
    if path.is_file():
        return str(path.resolve()), str(path.resolve())
    if path.suffix in {".pt", ".pth", ".bin", ".safetensors"} or "/" in pretrained or "\\" in pretrained:
        raise FileNotFoundError(f"CLIP checkpoint {pretrained!r} for {model_name} does not exist")
    tags = open_clip.list_pretrained_tags_by_model(model_name)
    if pretrained not in tags:
        raise ValueError(
            f"{pretrained!r} is neither a checkpoint file nor an open_clip pretrained tag of {model_name}; "
            f"known tags: {', '.join(tags) or 'none'}"
        )
    return pretrained, pretrained


def _create(model_name: str, pretrained: str | None, source: str, device: torch.device) -> ClipScorer:
    if pretrained is None:
        # Random weights are seeded so that plumbing tests and demos score the same every run.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model, _, preprocess = open_clip.create_model_and_transforms(model_name, pretrained=None, device=device)
    else:
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(model_name, pretrained=pretrained, device=device)
        except Exception as err:
            if Path(pretrained).is_file():
                raise RuntimeError(f"could not load CLIP {model_name} from checkpoint {pretrained!r}: {err}") from err
            raise RuntimeError(
                f"could not get open_clip weights {model_name}/{pretrained} ({err}). This machine may be offline: "
                f"download the checkpoint where the Hub is reachable and pass the file path as `pretrained`"
            ) from err
    tokenizer = open_clip.get_tokenizer(model_name)
    return ClipScorer(
        model,
        preprocess,
        tokenizer,
        model_name=model_name,
        source=source,
        random_weights=pretrained is None,
        device=device,
    )


def load_clip_scorer(
    model_name: str = "ViT-B-32",
    pretrained: str | None = None,
    *,
    device: str | None = None,
    trusted: Mapping[str, str] | None = None,
) -> ClipScorer:
    """Load a CLIP scorer, once per process for each (model_name, pretrained, device).

    Args:
        model_name: An open_clip architecture name.
        pretrained: None or "random" for seeded random weights (plumbing only); a local
            checkpoint file; or an open_clip pretrained tag such as "laion2b_s34b_b79k", which
            open_clip downloads (fails offline).
        device: "cuda", "cuda:N" or "cpu"; None picks the GPU when there is one.
        trusted: Pins, checkpoint path -> sha256 (a spec's `models.trusted_weights`). A local
            checkpoint other than .safetensors loads only when pinned, here or in
            `$CLIPMILL_TRUSTED_WEIGHTS` (`models.trust`): it is a pickle. open_clip unpickles
            it with `weights_only=True`, which refuses code, but the rule is the same for every
            pickle-based file, whichever loader reads it.

    Raises:
        FileNotFoundError: `pretrained` looks like a path and no such file exists.
        UntrustedWeightsError: The checkpoint is not pinned, or is not the pinned file.
        ValueError: `pretrained` is not a known tag of `model_name`.
        RuntimeError: The weights could not be loaded or downloaded.
    """
    resolved, source = _resolve_pretrained(model_name, pretrained)
    digest = None
    if resolved is not None and Path(resolved).is_file() and needs_pin(resolved):
        digest = require_trusted(pretrained, trusted, what="CLIP checkpoint")
    torch_device = pick_device(device)
    return cached_model(
        ("clip", model_name, source, digest, str(torch_device)),
        lambda: _create(model_name, resolved, source, torch_device),
    )
