"""Detections and tracks over a clip's frames, for the interaction checks in `qa/`.

Two backends answer through one `Detector`: ultralytics (a YOLO `.pt` or `.onnx`, the
production default) and OpenCV DNN (an SSD-style TensorFlow or ONNX graph,
`models/detector_dnn.py`). A source names its backend: `ultralytics:PATH`,
`opencv-dnn:GRAPH.pb[:CONFIG.pbtxt]`, or a bare path whose suffix says (`.pb`: OpenCV DNN).

ultralytics reaches for the network on its own: it downloads fonts, checks for updates and
pip-installs missing requirements. None of that works (or is wanted) on a GPU worker, so this
module configures it to stay offline before it is first imported, and gives it the fonts it
would otherwise fetch.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from importlib.util import find_spec
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from clipmill.models.cache import cached_model
from clipmill.models.trust import file_sha256, needs_pin, require_trusted
from clipmill.qa.types import Detection

if TYPE_CHECKING:
    from ultralytics import YOLO

    from clipmill.models.detector_dnn import DnnModel

RANDOM_SOURCE = "random"
DEFAULT_RANDOM_ARCHITECTURE = "yolov8n.yaml"
_FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")
_PREDICT_BATCH = 8


def clipmill_cache_dir() -> Path:
    """Where clipmill keeps its own files: $CLIPMILL_CACHE, else ~/.cache/clipmill."""
    return Path(os.environ.get("CLIPMILL_CACHE") or Path.home() / ".cache" / "clipmill").expanduser()


def _find_local_font() -> Path | None:
    # matplotlib (an ultralytics dependency) ships DejaVu fonts; system fonts come second.
    candidates: list[Path] = []
    spec = find_spec("matplotlib")
    if spec is not None and spec.origin is not None:
        candidates.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf")
    candidates.append(Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    system_fonts = Path("/usr/share/fonts")
    if system_fonts.is_dir():
        return next(iter(sorted(system_fonts.rglob("*.ttf"))), None)
    return None


def prepare_ultralytics_offline() -> Path:
    """Configure ultralytics to never touch the network; call before importing it.

    Sets YOLO_OFFLINE, YOLO_AUTOINSTALL and YOLO_CONFIG_DIR (values already in the
    environment win) and puts the fonts ultralytics would download into its config folder.

    Returns:
        The ultralytics config folder.

    Raises:
        RuntimeError: No TrueType font exists on this machine to stand in for Arial.
    """
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    os.environ.setdefault("YOLO_VERBOSE", "false")
    config_dir = Path(os.environ.setdefault("YOLO_CONFIG_DIR", str(clipmill_cache_dir() / "ultralytics")))
    config_dir.mkdir(parents=True, exist_ok=True)

    missing = [name for name in _FONT_NAMES if not (config_dir / name).is_file()]
    if missing:
        font = _find_local_font()
        if font is None:
            raise RuntimeError(
                "ultralytics needs a TrueType font and would download one; install one locally "
                "(`apt-get install fonts-dejavu-core`) or copy any .ttf to "
                + " and ".join(str(config_dir / name) for name in missing)
            )
        for name in missing:
            shutil.copyfile(font, config_dir / name)
    return config_dir


ULTRALYTICS, OPENCV_DNN = "ultralytics", "opencv-dnn"


@dataclass(frozen=True)
class DetectorSource:
    """Which detector to load: its backend, its weights (or graph) and the graph's config."""

    backend: Literal["ultralytics", "opencv-dnn"]
    path: str
    config: str | None = None

    @classmethod
    def parse(cls, source: str) -> "DetectorSource":
        """`ultralytics:PATH`, `opencv-dnn:GRAPH[:CONFIG.pbtxt]`, `random`, or a bare path."""
        source = str(source).strip()
        if not source:
            raise ValueError("detector source is empty; give e.g. ultralytics:yolov8n.pt or "
                             "opencv-dnn:frozen_inference_graph.pb:graph.pbtxt")
        backend, _, rest = source.partition(":")
        if backend == ULTRALYTICS and rest:
            return cls(ULTRALYTICS, rest)
        if backend == OPENCV_DNN and rest:
            graph, _, config = rest.rpartition(":") if rest.lower().endswith(".pbtxt") and ":" in rest else (rest, "", "")
            return cls(OPENCV_DNN, graph, config or None)
        if backend in (ULTRALYTICS, OPENCV_DNN):
            raise ValueError(f"detector source {source!r}: name the file after '{backend}:'")
        return cls(OPENCV_DNN if source.lower().endswith(".pb") else ULTRALYTICS, source)

    @property
    def files(self) -> list[str]:
        """The local files this source reads (none for a random model)."""
        if self.path == RANDOM_SOURCE or self.path.endswith((".yaml", ".yml")):
            return []
        return [self.path] + ([self.config] if self.config else [])

    def __str__(self) -> str:
        return f"{self.backend}:{self.path}" + (f":{self.config}" if self.config else "")


class Detector:
    """A detection model (YOLO, or a graph run by OpenCV DNN) that finds and tracks objects in a
    clip's frames.

    Attributes:
        source: The weights file (`opencv-dnn:` before a graph), or "random" with the
            architecture yaml it was built from.
        random_weights: True when the model is randomly initialised; its detections mean
            nothing and reports must say so.
        device: The device passed to ultralytics (None lets it choose).
    """

    def __init__(self, model: YOLO | DnnModel, *, source: str, random_weights: bool, device: str | None = None) -> None:
        self.model = model
        self.source = source
        self.random_weights = random_weights
        self.device = device

    def _predict(self, bgr: list[np.ndarray], options: dict) -> list:
        # One predict call per batch, not one track call per frame: ultralytics' track mode
        # feeds a batch of images to its tracker as unrelated pictures, so tracking runs in
        # `detect`, over the batched results, with a tracker of this clip's own.
        import torch

        results = []
        threads = torch.get_num_threads()
        for start in range(0, len(bgr), _PREDICT_BATCH):
            results += self.model.predict(bgr[start : start + _PREDICT_BATCH], **options)
            if start == 0:
                # ultralytics drops torch to one thread while it builds its predictor: give
                # back the threads the process had (all cores, or OMP_NUM_THREADS where a
                # host runs a worker per GPU). Measured on 2 cores: 16-32 checked frames/s
                # instead of 12-17.
                torch.set_num_threads(threads)
        return results

    def __repr__(self) -> str:
        weights = ", random weights" if self.random_weights else ""
        return f"Detector(source={self.source!r}{weights})"

    @property
    def class_names(self) -> dict[int, str]:
        """Class index to label, e.g. {0: "person", ...}."""
        return dict(self.model.names)

    def detect(
        self,
        frames: np.ndarray,
        *,
        stride: int = 1,
        conf: float = 0.25,
        imgsz: int = 640,
        track: bool = True,
    ) -> tuple[list[int], list[Detection]]:
        """Detect objects in every `stride`-th frame of one clip.

        Args:
            frames: uint8 RGB frames, shape (num_frames, height, width, 3).
            stride: Examine frames 0, stride, 2*stride, ...
            conf: Minimum detection confidence.
            imgsz: Inference size in pixels (longest side).
            track: Link detections across the examined frames with ByteTrack, so every
                detection carries a `track_id`. Tracks start afresh for every call.

        Returns:
            The indices of the examined frames, and the detections in them; `Detection.frame`
            is the index in `frames`, `label` the class name.
        """
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"frames must have shape (num_frames, height, width, 3), got {frames.shape}")
        if stride < 1:
            raise ValueError(f"stride={stride} must be at least 1")
        if track:
            _require_lap()
        indices = list(range(0, len(frames), stride))
        # ultralytics takes numpy images as OpenCV does: BGR.
        bgr = [np.ascontiguousarray(frames[i][..., ::-1]) for i in indices]
        options = {"conf": conf, "imgsz": imgsz, "verbose": False, "device": self.device}

        # On the process's one judge thread: cuDNN keeps its tuned convolutions per thread
        # (models.devices.run_on_model_thread), and one thread also serialises the predictor and
        # tracker state ultralytics keeps on the model object.
        from clipmill.models.devices import JUDGE, run_on_model_thread  # imports torch: only where a model runs

        results = run_on_model_thread(JUDGE, self._predict, bgr, options)

        if track:
            return indices, _tracked_detections(indices, results)
        detections = []
        for frame_index, result in zip(indices, results):
            detections += _to_detections(frame_index, result)
        return indices, detections


def _to_detections(frame_index: int, result: object) -> list[Detection]:
    boxes = result.boxes
    if boxes is None or len(boxes) == 0:
        return []
    boxes = boxes.cpu().numpy()  # torch tensors from YOLO, numpy already from OpenCV DNN
    xyxy = boxes.xyxy.tolist()
    confidences = boxes.conf.tolist()
    classes = boxes.cls.astype(int).tolist()
    track_ids = boxes.id.astype(int).tolist() if boxes.id is not None else [None] * len(xyxy)
    return [
        Detection(
            frame=frame_index,
            label=result.names[cls],
            confidence=float(confidence),
            box=tuple(float(v) for v in box),
            track_id=track_id,
        )
        for box, confidence, cls, track_id in zip(xyxy, confidences, classes, track_ids)
    ]


def _new_tracker():
    """A ByteTrack tracker configured exactly as `model.track(tracker="bytetrack.yaml")` builds it;
    its ids start at 1, so ids never leak from one clip into the next."""
    from ultralytics.trackers.byte_tracker import BYTETracker
    from ultralytics.utils import YAML, IterableSimpleNamespace
    from ultralytics.utils.checks import check_yaml

    return BYTETracker(args=IterableSimpleNamespace(**YAML.load(check_yaml("bytetrack.yaml"))))


def _tracked_detections(indices: list[int], results: list) -> list[Detection]:
    """Link per-frame boxes into tracks, as ultralytics' track callback does.

    Only confirmed tracks are reported (a box seen in one frame only is not), and the box is
    the tracker's, which ultralytics also returns in track mode.
    """
    tracker = _new_tracker()
    detections = []
    for frame_index, result in zip(indices, results):
        boxes = result.boxes
        if boxes is None:
            continue
        tracks = tracker.update(boxes.cpu().numpy(), result.orig_img)
        for x1, y1, x2, y2, track_id, score, cls, _ in np.asarray(tracks, dtype=np.float64).reshape(-1, 8).tolist():
            detections.append(Detection(frame=frame_index, label=result.names[int(cls)], confidence=float(score),
                                        box=(x1, y1, x2, y2), track_id=int(track_id)))
    return detections


def _require_lap() -> None:
    # ultralytics' ByteTrack imports `lap` and would try to pip-install it when missing.
    if find_spec("lap") is None:
        raise ImportError("tracking needs the `lap` package: pip install 'lap>=0.5.12' (or call detect with track=False)")


def _coco_names() -> dict[int, str]:
    from ultralytics.cfg import get_cfg  # noqa: F401  (ensures the package is initialised)
    from ultralytics.utils import ROOT, YAML

    return dict(YAML.load(ROOT / "cfg" / "datasets" / "coco.yaml")["names"])


def _build(weights: str, device: str | None) -> Detector:
    prepare_ultralytics_offline()
    from ultralytics import YOLO

    if weights == RANDOM_SOURCE or weights.endswith((".yaml", ".yml")):
        architecture = DEFAULT_RANDOM_ARCHITECTURE if weights == RANDOM_SOURCE else weights
        model = YOLO(architecture, task="detect")
        if len(model.names) == 80:
            # A yaml build numbers its classes; name them as COCO so labels read like a real model's.
            model.model.names = _coco_names()
        # Travels inside the .pt when saved, so a reloaded copy still says it is random.
        model.model.yaml["clipmill_random_weights"] = True
        return Detector(model, source=f"{RANDOM_SOURCE}:{architecture}", random_weights=True, device=device)

    model = YOLO(weights, task="detect")
    random_weights = bool(getattr(model.model, "yaml", {}).get("clipmill_random_weights", False))
    return Detector(model, source=weights, random_weights=random_weights, device=device)


def load_detector(weights: str = "yolov8n.pt", *, device: str | None = None,
                  trusted: Mapping[str, str] | None = None) -> Detector:
    """Load a detector, once per process for each (source file content, device).

    Args:
        weights: A detector source (`DetectorSource.parse`): a local YOLO .pt or .onnx file
            (`ultralytics:PATH` or the bare path), an OpenCV DNN graph
            (`opencv-dnn:GRAPH.pb[:CONFIG.pbtxt]`, or a bare `.pb`), or "random" / an
            architecture yaml such as "yolov8n.yaml" for a randomly initialised YOLO
            (plumbing only). A bare name such as "yolov8n.pt" that is not a local file is an
            error: ultralytics would try to download it.
        device: Passed to ultralytics ("cpu", "cuda:0", ...); None lets it choose. OpenCV DNN
            runs on the CPU.
        trusted: Pins, weights path -> sha256 (a spec's `models.trusted_weights`). A file that
            could run code loads only when pinned, here or in `$CLIPMILL_TRUSTED_WEIGHTS`
            (`models.trust`): ultralytics unpickles .pt files with `weights_only=False`, so
            loading one runs any code it holds. ONNX and TensorFlow graphs need no pin.

    Raises:
        FileNotFoundError: The weights file does not exist locally.
        UntrustedWeightsError: A .pt file is not pinned, or is not the pinned file (a ValueError).
        DnnGraphError: A graph that is not a regular file, too large, or unreadable (a ValueError).
    """
    source = DetectorSource.parse(weights)
    if source.backend == OPENCV_DNN:
        from clipmill.models.detector_dnn import load_dnn_model, regular_file, MAX_GRAPH_BYTES

        graph = regular_file(source.path, what="detector graph", max_bytes=MAX_GRAPH_BYTES).resolve()
        config = str(Path(source.config).expanduser().resolve()) if source.config else None
        key = ("opencv-dnn", str(graph), graph.stat().st_mtime_ns, config)
        return cached_model(key, lambda: Detector(load_dnn_model(graph, config), random_weights=False,
                                                  source=str(DetectorSource(OPENCV_DNN, str(graph), config))))
    weights = source.path
    digest = None
    if weights != RANDOM_SOURCE and not weights.endswith((".yaml", ".yml")):
        path = Path(weights).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"YOLO weights {weights!r} are not a local file, and clipmill never lets ultralytics download them. "
                f"Fetch them where the network is reachable (e.g. https://github.com/ultralytics/assets/releases) "
                f"and pass the file path; or pass 'random' for an untrained model"
            )
        # Checked at every call, cached model or not: a pin is a property of the request.
        digest = require_trusted(weights, trusted, what="YOLO weights") if needs_pin(weights) else file_sha256(path)
        weights = str(path.resolve())
    return cached_model(("yolo", weights, digest, device), lambda: _build(weights, device))
