"""A model-based prompt extender beside the rules planner, as Wan2.2's `generate.py` offers
(`--use_prompt_extend --prompt_extend_method local_qwen --prompt_extend_model <path>`): a local
instruct model rewrites the prompt into a detailed one and answers with the shot plan as JSON,
validated against the plan's schema (`model_plan`).

It is off by default; the rules planner (`plan_shot`) is the default and the fallback. On
missing weights, a load error, a time-out or an answer that is not a valid plan, the job gets
the rules plan, with the reason in `ShotPlan.notes`; nothing is ever made up in the model's
place.

    from clipmill.planning import plan_shot
    from clipmill.planning.extender import ExtenderConfig, PromptExtender

    extender = PromptExtender(ExtenderConfig(source="/models/Qwen2.5-3B-Instruct"))
    plan = plan_shot("两个女孩在海边互相传递一个排球，然后击掌庆祝", segments=2, extender=extender)
    plan.planner   # "model", or "rules" with the fallback's reason in plan.notes

`ExtenderConfig.from_spec` reads the form a batch spec's `models:` block gives it
(`prompt_extender: /models/Qwen2.5-3B-Instruct` or a mapping of the fields below).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Literal

from clipmill.planning.model_plan import COCO_CLASSES, InvalidPlan, plan_from_json
from clipmill.planning.shot_plan import ShotPlan

SYSTEM_PROMPT = """You are a prompt engineer for a text-to-video model and the planner of its shot.
Rewrite the user's prompt into one detailed prompt for the video model, in the user's language:
keep every subject, product, action (all of them, in their order), camera direction and light
the user wrote; add visual detail, never new subjects, actions, states or outcomes; keep what
the user says is absent out of the prompt.
Answer with one JSON object and nothing else, with these keys:
  "prompt": the rewritten prompt,
  "subjects": the subjects as written, "initial_state": how the shot opens (only what the text
  says or implies), "actions": every action in order, one sentence each, "location": the place,
  "outcome": how it ends (only if the text says or implies it), "camera": camera directions,
  "look": light and style phrases,
  "expectations": {"classes": {COCO class: how many must be visible}, "interaction": one of
  "approach", "contact", "handover", "enter", "leave" or null, "subjects": the COCO classes taking
  part, agent first (for handover the object third)},
  "absent": COCO classes the user says must not appear,
  "open_vocabulary": English names of subjects that are not COCO classes.
COCO classes: """ + ", ".join(sorted(COCO_CLASSES)) + "."


@dataclass(frozen=True)
class ExtenderConfig:
    """Where the instruct model comes from and how long it may take."""

    source: str  # a local folder, or a hub id already in the local cache ("Qwen/Qwen2.5-3B-Instruct")
    kind: Literal["causal", "seq2seq"] = "causal"  # AutoModelForCausalLM, or AutoModelForSeq2SeqLM
    max_new_tokens: int = 768
    timeout_s: float = 120.0  # wall clock for one answer; past it the rules plan is used
    device: str | None = None  # "cuda", "cpu"; None: cuda when available
    dtype: str | None = None  # "bfloat16", "float16", "float32"; None: the checkpoint's own
    local_files_only: bool = True  # workers are offline; a hub id must already be cached

    @classmethod
    def from_spec(cls, value: str | dict[str, Any] | None) -> ExtenderConfig | None:
        """A `models: prompt_extender:` value: None (off), a source string, or a mapping."""
        if value is None or value == "" or value is False:
            return None
        if isinstance(value, str):
            return cls(source=value)
        if not isinstance(value, dict) or not value.get("source"):
            raise ValueError("prompt_extender: give a local model folder or hub id, or a mapping with 'source'")
        unknown = set(value) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"prompt_extender: unknown field(s) {', '.join(sorted(unknown))}")
        return cls(**value)


class ExtenderUnavailable(RuntimeError):
    """The model could not be loaded or did not answer in time."""


_LOADED: dict[tuple, tuple[Any, Any]] = {}  # one model per process, as models/ does for the others
_LOCK = threading.Lock()


def load_model(config: ExtenderConfig) -> tuple[Any, Any]:
    """(tokenizer, model) for `config`, loaded once per process from a local path or hub id."""
    key = (config.source, config.kind, config.device, config.dtype)
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = _load(config)
        return _LOADED[key]


def _load(config: ExtenderConfig) -> tuple[Any, Any]:
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer
    except ImportError as error:  # pragma: no cover - transformers is a dependency
        raise ExtenderUnavailable(f"transformers is not installed ({error})") from None
    auto = AutoModelForCausalLM if config.kind == "causal" else AutoModelForSeq2SeqLM
    options: dict[str, Any] = {"local_files_only": config.local_files_only}
    if config.dtype:
        options["dtype"] = getattr(torch, config.dtype)
    try:
        tokenizer = AutoTokenizer.from_pretrained(config.source, local_files_only=config.local_files_only)
        model = auto.from_pretrained(config.source, **options)
    except (OSError, ValueError, EnvironmentError) as error:
        raise ExtenderUnavailable(f"cannot load {config.source!r}: {str(error).splitlines()[0]}") from None
    device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
    return tokenizer, model.to(device).eval()


class PromptExtender:
    """Rewrites a prompt and plans the shot with a local instruct model; falls back to the rules."""

    def __init__(self, config: ExtenderConfig):
        self.config = config

    def answer(self, text: str) -> str:
        """The model's raw answer to `text` (greedy decoding, bounded by `timeout_s`)."""
        import torch

        tokenizer, model = load_model(self.config)
        inputs = self._inputs(tokenizer, text).to(model.device)
        started = time.monotonic()
        with torch.inference_mode():
            output = model.generate(**inputs, max_new_tokens=self.config.max_new_tokens, do_sample=False,
                                    max_time=self.config.timeout_s,
                                    pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
        if time.monotonic() - started >= self.config.timeout_s:
            raise ExtenderUnavailable(f"no complete answer within {self.config.timeout_s:g} s")
        if self.config.kind == "causal":
            output = output[:, inputs["input_ids"].shape[1] :]
        return tokenizer.decode(output[0], skip_special_tokens=True)

    def _inputs(self, tokenizer: Any, text: str) -> Any:
        messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": text}]
        if getattr(tokenizer, "chat_template", None):
            prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:
            prompt = f"{SYSTEM_PROMPT}\n\nUser prompt: {text}\nJSON:"
        return tokenizer(prompt, return_tensors="pt")

    def plan(self, text: str, *, segments: int = 1, negative_prompt: str | None = None) -> ShotPlan:
        """The model's plan, validated; on any failure the rules plan, with the reason in `notes`."""
        from clipmill.planning.confidence import reconcile
        from clipmill.planning.plan import plan_shot

        rules = plan_shot(text, segments=segments, negative_prompt=negative_prompt)  # also checks the input
        if self.config.timeout_s <= 0:
            return _fallback(rules, "prompt extender time-out is 0 s")
        try:
            answer = self.answer(rules.source_text)
            plan = plan_from_json(answer, source_text=rules.source_text, segments=segments,
                                  negative_prompt=negative_prompt)
        except ExtenderUnavailable as error:
            return _fallback(rules, str(error))
        except InvalidPlan as error:
            return _fallback(rules, f"its answer is not a valid shot plan ({error})")
        plan.notes = [f"planned by the prompt extender ({self.config.source})"]
        # QA enforces only what the rules read too, with their confidence; the model's other readings are unchecked
        plan.expectations = reconcile(plan.expectations, rules.expectations)
        return plan


def _fallback(rules: ShotPlan, reason: str) -> ShotPlan:
    return replace(rules, notes=rules.notes + [f"prompt extender not used, rules planner instead: {reason}"])

