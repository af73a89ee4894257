"""Retry policy: read why an attempt failed and choose the next attempt's parameters.

Every retry gets a new seed, because most failures of a diffusion sample are bad
luck of the draw. On top of that:

- a missing, miscounted or vanishing subject, a failed interaction, or a failed
  image-text gate means the model did not follow the prompt closely enough:
  guidance goes up;
- flicker: the deflicker pass gets stronger;
- a visible seam: one more segment, so each segment is shorter and drifts less;
- black, frozen or motionless frames: a new seed alone.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from qa.types import Check, Verdict

GUIDANCE_FACTOR = 1.2
# Past ~8 classifier-free guidance oversaturates and stiffens Wan's output more than
# it helps prompt adherence.
MAX_GUIDANCE = 8.0
DEFLICKER_STEP = 0.25
MIN_DEFLICKER_ON_RETRY = 0.5
MAX_DEFLICKER_STRENGTH = 1.0

_SEED_SPACE = 2**32
_PROMPT_ADHERENCE_METRICS = ("presence", "count", "vanish", "interaction", "clip_cosine")


@dataclass(frozen=True)
class AttemptParams:
    seed: int
    guidance: float
    segments: int
    deflicker_strength: float
    steps: int


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    params: AttemptParams | None
    reason: str
    changes: dict  # parameter -> {"from": old, "to": new, "why": text}


def next_seed(seed: int, attempt_number: int) -> int:
    """A seed far from `seed` in the generator's space, the same every time (splitmix64)."""
    x = (seed * 0x9E3779B97F4A7C15 + attempt_number * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    new = (x ^ (x >> 31)) % _SEED_SPACE
    return new if new != seed % _SEED_SPACE else (new + 1) % _SEED_SPACE


def plan_retry(
    params: AttemptParams,
    verdict: Verdict,
    *,
    attempt_number: int,
    max_attempts: int,
    max_segments: int | None = None,
) -> RetryDecision:
    """Decide whether attempt `attempt_number` (1-based) is retried, and with what."""
    failures = verdict.failures
    if not failures:
        return RetryDecision(False, None, "accepted", {})
    last = "; ".join(c.reason for c in failures)
    if attempt_number >= max_attempts:
        return RetryDecision(False, None, f"attempt budget of {max_attempts} spent; last failures: {last}", {})

    changes: dict = {}
    new = replace(params, seed=next_seed(params.seed, attempt_number))
    changes["seed"] = {"from": params.seed, "to": new.seed, "why": "every retry draws a new sample"}
    notes: list[str] = []

    adherence = _first(failures, lambda c: _kind(c) in _PROMPT_ADHERENCE_METRICS)
    if adherence:
        guidance = round(min(params.guidance * GUIDANCE_FACTOR, MAX_GUIDANCE), 3)
        if guidance > params.guidance:
            new = replace(new, guidance=guidance)
            changes["guidance"] = {"from": params.guidance, "to": guidance, "why": adherence.reason}
        else:
            notes.append(f"guidance already at its cap {MAX_GUIDANCE:g}")

    flicker = _first(failures, lambda c: c.metric == "flicker")
    if flicker:
        strength = min(max(params.deflicker_strength + DEFLICKER_STEP, MIN_DEFLICKER_ON_RETRY), MAX_DEFLICKER_STRENGTH)
        if strength > params.deflicker_strength:
            new = replace(new, deflicker_strength=strength)
            changes["deflicker_strength"] = {"from": params.deflicker_strength, "to": strength, "why": flicker.reason}
        else:
            notes.append(f"deflicker already at full strength {MAX_DEFLICKER_STRENGTH:g}")

    seam = _first(failures, lambda c: c.stage == "seam")
    if seam:
        if max_segments is None or params.segments < max_segments:
            new = replace(new, segments=params.segments + 1)
            changes["segments"] = {"from": params.segments, "to": params.segments + 1, "why": seam.reason}
        else:
            notes.append(f"already at the most segments allowed ({max_segments})")

    steps = [f"{name} {c['from']} -> {c['to']}" for name, c in changes.items()]
    reason = f"retry {attempt_number + 1} of {max_attempts} with " + ", ".join(steps) + f" because {last}"
    if notes:
        reason += " (" + "; ".join(notes) + ")"
    return RetryDecision(True, new, reason, changes)


def _kind(check: Check) -> str:
    return check.metric.split(":", 1)[0]


def _first(checks, predicate) -> Check | None:
    return next((c for c in checks if predicate(c)), None)
