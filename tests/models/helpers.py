"""Small values and inputs shared by the model adapter tests."""
from __future__ import annotations

import numpy as np

# Small enough for a 2-core CPU; width and height are multiples of 32 (the TI2V-5B form).
SMALL = {"width": 128, "height": 96, "num_frames": 5, "steps": 2, "guidance": 5.0}


def random_frames(count: int, height: int = 96, width: int = 128, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(count, height, width, 3), dtype=np.uint8)
