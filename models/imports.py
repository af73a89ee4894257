"""The model libraries, imported once per process, before clips run in threads.

diffusers and transformers resolve most of their classes through lazy modules: the first
`from diffusers import WanPipeline` imports the pipeline machinery, which imports
`transformers.PreTrainedModel`, which imports `transformers.modeling_utils`, and so on. When
one thread does that while another imports open_clip (a clip at its input gate or QA beside a
clip starting to generate), one of them can see `transformers` half initialised and fail with
`cannot import name 'PreTrainedModel' from 'transformers'` (issue #23 item 6; reproduced 3 of
3 times with two threads started together). Python's per-module import locks do not prevent
it: the two threads enter the package through different modules.

So a batch imports them here on its main thread before its first clip starts
(`import_model_libraries`), and every task that loads a model calls the same function first:
it holds one lock while importing, and costs nothing once done.
"""
from __future__ import annotations

import threading

_lock = threading.Lock()
_imported = False


def import_model_libraries() -> None:
    """Import the generator, CLIP and prompt-extender libraries and resolve the lazy names
    they use, once per process, under one lock."""
    global _imported
    if _imported:
        return
    with _lock:
        if _imported:
            return
        import transformers

        import clipmill.models.clip  # noqa: F401  open_clip, torch
        import clipmill.models.tiny_wan  # noqa: F401  diffusers' Wan components; transformers' UMT5 and tokenizer
        import clipmill.models.wan  # noqa: F401  diffusers' pipelines

        # The names diffusers' pipelines and clipmill.planning.extender reach for later, in
        # whatever thread a clip runs in: resolved now, their modules are plain imports after.
        for name in ("PreTrainedModel", "AutoModelForCausalLM", "AutoModelForSeq2SeqLM", "AutoTokenizer"):
            getattr(transformers, name)
        _imported = True
