"""A process-level model cache.

Loading a Wan checkpoint takes minutes and tens of GiB, so every model is loaded once per
process and shared by all the clips that process makes. Prefect may run tasks in threads,
hence the locks: two tasks asking for the same model at the same time get one load, while
different models can load side by side.
"""
from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

_models: dict[Hashable, Any] = {}
_loading_locks: dict[Hashable, threading.Lock] = {}
_registry_lock = threading.Lock()


def cached_model(key: tuple, factory: Callable[[], T]) -> T:
    """Return the model cached under `key`, calling `factory()` to create it on first use.

    Args:
        key: A hashable tuple naming the model completely (kind, name, source, device...).
        factory: Builds the model. Called at most once per key per process, unless it raises,
            in which case nothing is cached and the next call tries again.

    Returns:
        The one instance stored for `key`.
    """
    with _registry_lock:
        if key in _models:
            return _models[key]
        loading_lock = _loading_locks.setdefault(key, threading.Lock())

    with loading_lock:
        # Another thread may have finished loading while this one waited for the lock.
        with _registry_lock:
            if key in _models:
                return _models[key]
        model = factory()
        with _registry_lock:
            _models[key] = model
        return model


def cached_keys() -> list[tuple]:
    """The keys of the models loaded in this process, for diagnostics."""
    with _registry_lock:
        return list(_models)


def clear_model_cache() -> None:
    """Forget every cached model and give its memory back (GPU memory included).

    Objects still referenced elsewhere stay alive; the cache only drops its own references.
    """
    with _registry_lock:
        _models.clear()
        _loading_locks.clear()
    gc.collect()
    # Only touch CUDA when torch is already in use: importing it here would cost seconds.
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
