"""Which device and precision a model runs on, what GPUs this process can see, and who may
generate on a device right now."""
from __future__ import annotations

import threading

import torch

_generation_locks: dict[str, threading.RLock] = {}
_registry_lock = threading.Lock()


def generation_lock(device: torch.device | str) -> threading.RLock:
    """The process-wide lock a generation holds on `device` for as long as it runs.

    A worker keeps two clips in flight (flows/batch.py) so that one clip's CPU stages run
    while the next one generates; this lock keeps their generations, of any model, from
    sharing the GPU, where they would only slow each other down and could run it out of
    memory. Re-entrant: the generate task takes it before the GPU's Prefect slot
    (tasks/generate.py:gpu_slot) and the generator takes it again inside.
    """
    key = str(torch.device(device))
    with _registry_lock:
        return _generation_locks.setdefault(key, threading.RLock())


def pick_device(preferred: str | None = None) -> torch.device:
    """Choose the device to load models on.

    Args:
        preferred: "cpu", "cuda" or "cuda:N"; None picks the first GPU when there is one. Each
            worker is expected to see one GPU (through `CUDA_VISIBLE_DEVICES`), so "cuda" is
            normally the right answer on a GPU machine.

    Raises:
        RuntimeError: A GPU was asked for and this process cannot see it.
    """
    if preferred is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    device = torch.device(preferred)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"device {preferred!r} was asked for but this process sees no CUDA GPU")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"device {preferred!r} was asked for but this process sees only "
                f"{torch.cuda.device_count()} GPU(s); check CUDA_VISIBLE_DEVICES"
            )
    return device


def default_dtype(device: torch.device | str) -> torch.dtype:
    """bfloat16 on GPUs (what Wan2.2 is trained and served in), float32 on CPU (where bf16 is slow)."""
    return torch.bfloat16 if torch.device(device).type == "cuda" else torch.float32


def gpu_summary() -> list[dict]:
    """Name and memory of every GPU this process can see, for `clipmill doctor`.

    Returns:
        One dict per GPU with keys `index`, `name`, `total_gib`, `free_gib`; an empty list
        without CUDA.
    """
    if not torch.cuda.is_available():
        return []
    summary = []
    for index in range(torch.cuda.device_count()):
        free, total = torch.cuda.mem_get_info(index)
        summary.append(
            {
                "index": index,
                "name": torch.cuda.get_device_name(index),
                "total_gib": round(total / 2**30, 2),
                "free_gib": round(free / 2**30, 2),
            }
        )
    return summary
