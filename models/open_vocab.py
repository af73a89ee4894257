"""Open-vocabulary detection (ultralytics YOLOE, YOLO-World) for subjects outside COCO.

A COCO detector cannot tell whether a clip shows the perfume, the sneakers or the earbuds a
prompt asks for. An open-vocabulary detector can, once it is given the names: the shot plan's
subject nouns (`Expectations.open_vocabulary`) become its classes for that clip.

Its classes are text embeddings, and they only mean something in the embedding space the
weights were trained with: the weights say which (`text_model`: YOLOE's "mobileclip:blt" by
default, YOLO-World's "clip:ViT-B/32"). ultralytics would download that text model; clipmill
never lets it, so the embeddings come from a local copy of the same text model:

- "clip:ViT-B/32": the spec's CLIP model (open_clip ViT-B-32: with the "openai" weights it is the
  very network ultralytics loads), through `models.clip`;
- "mobileclip:*" / "mobileclip2:*": a local TorchScript text encoder file (ultralytics'
  `mobileclip_blt.ts`), pinned like any weights file, with the CLIP tokenizer it was built for.

Anything else is `OpenVocabUnavailable`, and QA records the subjects as not checkable.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from clipmill.models.cache import cached_model
from clipmill.models.detector import Detector, prepare_ultralytics_offline
from clipmill.models.trust import require_trusted
from clipmill.qa.types import Detection

# names -> a torch tensor (len(names), D) of unit-length text embeddings
TextEncoder = Callable[[Sequence[str]], Any]
CLIP_TEXT_MODEL = "clip:ViT-B/32"
_MOBILECLIP_PREFIXES = ("mobileclip:", "mobileclip2:")


class OpenVocabUnavailable(RuntimeError):
    """No open-vocabulary detection here: the message says what is missing."""


class OpenVocabDetector(Detector):
    """A YOLOE or YOLO-World model whose classes are set, clip by clip, from names.

    Attributes (beyond `Detector`'s):
        text_model: The text model the weights' classes are embedded with.
        text_random: True when the text encoder has random weights (plumbing only).
    """

    def __init__(self, model, *, source: str, random_weights: bool, text_encoder: TextEncoder, text_model: str,
                 text_random: bool = False, device: str | None = None) -> None:
        super().__init__(model, source=source, random_weights=random_weights or text_random, device=device)
        self.text_encoder = text_encoder
        self.text_model = text_model
        self.text_random = text_random

    def __repr__(self) -> str:
        weights = ", random weights" if self.random_weights else ""
        return f"OpenVocabDetector(source={self.source!r}, text_model={self.text_model!r}{weights})"

    def detect_names(self, frames: np.ndarray, names: Sequence[str], **options) -> tuple[list[int], list[Detection]]:
        """`Detector.detect` with `names` as the classes: every detection's label is one of them."""
        names = tuple(dict.fromkeys(str(n).strip() for n in names if str(n).strip()))
        if not names:
            raise ValueError("an open-vocabulary detector needs at least one class name")
        from clipmill.models.devices import JUDGE, run_on_model_thread  # imports torch: only where a model runs

        # Setting the classes runs the text encoder: on the judge thread, as detection does. That
        # one thread also keeps one clip's classes at a time on the shared, cached model.
        return run_on_model_thread(JUDGE, self._detect_names, frames, names, options)

    def _detect_names(self, frames: np.ndarray, names: tuple[str, ...], options: dict) -> tuple[list[int], list[Detection]]:
        if (names, self.text_model, id(self.text_encoder)) != self.model._clipmill_names:
            self._set_classes(names)
            self.model._clipmill_names = (names, self.text_model, id(self.text_encoder))
        return self.detect(frames, **options)

    def _set_classes(self, names: tuple[str, ...]) -> None:
        import torch

        with torch.no_grad():
            features = self.text_encoder(list(names)).float()
            if features.ndim != 2 or features.shape[0] != len(names):
                raise ValueError(f"the text encoder gave embeddings of shape {tuple(features.shape)} "
                                 f"for {len(names)} names")
            parameter = next(self.model.model.parameters())
            features = features.to(device=parameter.device, dtype=parameter.dtype)[None]
            head = self.model.model.model[-1]
            if hasattr(head, "get_tpe"):  # YOLOE: the head projects text features into its class space
                self.model.set_classes(list(names), head.get_tpe(features).detach())
            else:  # YOLO-World: the text features are the classes
                self.model.model.txt_feats = features.detach()
                head.nc = len(names)
                self.model.model.names = list(names)
                self.model.predictor = None


def clip_text_encoder(scorer) -> TextEncoder:
    """Text embeddings from a `models.clip.ClipScorer` of ViT-B-32 (the "clip:ViT-B/32" space)."""
    if scorer.model_name != "ViT-B-32":
        raise OpenVocabUnavailable(f"the detector's classes are CLIP ViT-B/32 text embeddings, but the spec's CLIP "
                                   f"model is {scorer.model_name}: its embeddings are another space")

    def encode(names: Sequence[str]):
        import torch

        return torch.from_numpy(np.stack([scorer.text_embedding(name) for name in names]))

    return encode


def torchscript_text_encoder(path: str, *, trusted: Mapping[str, str] | None = None,
                             device: str | None = None) -> TextEncoder:
    """Text embeddings from a local TorchScript text encoder (ultralytics' `mobileclip_blt.ts`).

    A TorchScript file carries code, so it loads only when pinned (`models.trust`). Its input is
    the CLIP BPE tokenizer's 77-token ids (open_clip's tokenizer is that tokenizer); its output is
    already unit-length, as ultralytics' `MobileCLIPTS` notes."""
    import open_clip
    import torch

    if not Path(path).expanduser().is_file():
        raise OpenVocabUnavailable(f"text encoder {path!r} is not a local file; clipmill never downloads one")
    digest = require_trusted(path, trusted, what="open-vocabulary text encoder")
    encoder = cached_model(("torchscript-text", str(Path(path).expanduser().resolve()), digest, device),
                           lambda: torch.jit.load(str(Path(path).expanduser()), map_location=device or "cpu"))

    def encode(names: Sequence[str]):
        tokens = open_clip.tokenize(list(names))
        return encoder(tokens.to(next(iter(encoder.parameters())).device)).float().cpu()

    return encode


def weights_text_model(model) -> str:
    """The text model the weights' classes are embedded with."""
    inner = model.model
    if type(inner).__name__ == "WorldModel":
        return CLIP_TEXT_MODEL  # ultralytics' WorldModel always embeds with CLIP ViT-B/32
    return str(getattr(inner, "text_model", None) or inner.yaml.get("text_model", "mobileclip:blt"))


def choose_text_encoder(text_model: str, *, text_encoder_file: str | None, clip_scorer: Callable[[], object] | None,
                        trusted: Mapping[str, str] | None, device: str | None) -> tuple[TextEncoder, bool]:
    """The local text encoder for `text_model`, and whether its weights are random.

    `clip_scorer` builds the spec's CLIP scorer when called (it is loaded only if needed)."""
    if text_model.startswith(_MOBILECLIP_PREFIXES):
        if not text_encoder_file:
            raise OpenVocabUnavailable(f"the detector's classes are {text_model} text embeddings and no local text "
                                       f"encoder is configured (models.open_vocab_text_encoder: the .ts file)")
        return torchscript_text_encoder(text_encoder_file, trusted=trusted, device=device), False
    if text_model == CLIP_TEXT_MODEL:
        if clip_scorer is None:
            raise OpenVocabUnavailable("the detector's classes are CLIP ViT-B/32 text embeddings and no CLIP model "
                                       "is available to compute them")
        scorer = clip_scorer()
        return clip_text_encoder(scorer), bool(scorer.random_weights)
    raise OpenVocabUnavailable(f"no local text encoder for the detector's text model {text_model!r}")


def _build(weights: str, device: str | None):
    """The ultralytics model (YOLOE, or YOLO-World) and whether it has random weights."""
    prepare_ultralytics_offline()
    from ultralytics import YOLOE, YOLOWorld

    random_build = weights.endswith((".yaml", ".yml"))
    family = YOLOWorld if "world" in Path(weights).name.lower() else YOLOE
    model = family(weights)
    if random_build:
        model.model.yaml["clipmill_random_weights"] = True  # saved with it, as models.detector does
    if device is not None:
        model.to(device)
    model._clipmill_names = None  # the classes last set, and with which text encoder
    return model, bool(model.model.yaml.get("clipmill_random_weights", False))


def load_open_vocab_detector(weights: str, *, text_encoder_file: str | None = None,
                             clip_scorer: Callable[[], object] | None = None, device: str | None = None,
                             trusted: Mapping[str, str] | None = None) -> OpenVocabDetector:
    """Load YOLOE / YOLO-World weights, once per process per (file content, device).

    Args:
        weights: A local .pt file (pinned: ultralytics unpickles it), or an ultralytics model
            yaml such as "yoloe-v8s.yaml" for random weights (plumbing only). A file name with
            "world" in it is YOLO-World; anything else YOLOE.
        text_encoder_file: A local TorchScript text encoder, for weights embedded with MobileCLIP.
        clip_scorer: Builds the spec's CLIP scorer, for weights embedded with CLIP ViT-B/32.
        trusted: Pins, path -> sha256 (`models.trust`).

    Raises:
        FileNotFoundError: `weights` is not a local file (nothing is downloaded).
        UntrustedWeightsError: A file is not pinned, or not the pinned file.
        OpenVocabUnavailable: No local text encoder matches the weights' text model.
    """
    digest = None
    if not weights.endswith((".yaml", ".yml")):
        path = Path(weights).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"open-vocabulary weights {weights!r} are not a local file, and clipmill never "
                                    f"lets ultralytics download them")
        digest = require_trusted(weights, trusted, what="open-vocabulary detector weights")
        weights = str(path.resolve())
    model, random_weights = cached_model(("open-vocab", weights, digest, device), lambda: _build(weights, device))
    text_model = weights_text_model(model)
    encoder, text_random = choose_text_encoder(text_model, text_encoder_file=text_encoder_file,
                                               clip_scorer=clip_scorer, trusted=trusted, device=device)
    return OpenVocabDetector(model, source=weights, random_weights=random_weights, text_encoder=encoder,
                             text_model=text_model, text_random=text_random, device=device)
