"""Retry policy: read why an attempt failed and choose what happens next.

The decision's `action` is one of:

- "accept": nothing failed;
- "repair": flicker is the only failure and the deflicker pass has headroom: the same
  generated frames are deflickered again at a higher strength and judged again, no new
  generation (cheap, and it keeps a sample that is otherwise good). One repair per
  generated attempt; a repair does not spend the attempt budget;
- "regenerate": a new sample. Every regeneration gets a new seed, because most failures
  of a diffusion sample are bad luck of the draw. On top of that:
  - a missing, miscounted or vanishing subject, a class the prompt rules out ("no
    people") in view, a failed interaction, or a failed image-text gate means the model
    did not follow the prompt closely enough: guidance goes up (it also pushes harder
    away from the negative prompt, which names the ruled-out classes), unless it is off
    (guidance 1.0, the distilled profile): a new seed alone;
  - flicker that a repair did not fix (or could not, being at full strength): the
    deflicker pass stays as strong as it got, or gets stronger;
  - a visible seam: one more segment, so each segment is shorter and drifts less;
  - black, frozen or motionless frames: a new seed alone;
- "stop": the attempt budget is spent.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from clipmill.qa.types import Check, CheckKind, Verdict

GUIDANCE_FACTOR = 1.2
# At or below this, diffusers runs no unconditional pass: the step-distilled ("Lightning")
# profiles run there, and a retry keeps them there.
NO_GUIDANCE = 1.0
# Past ~8 classifier-free guidance oversaturates and stiffens Wan's output more than
# it helps prompt adherence.
MAX_GUIDANCE = 8.0
DEFLICKER_STEP = 0.25
MIN_DEFLICKER_ON_RETRY = 0.5
# qa.deflicker's strength scales its correction; 1 applies all of it. Measured on a
# synthetic flickering clip (flicker 7.1 levels): 1.0 leaves 0.2, 1.5 leaves 3.3 and 2.0
# leaves 6.9, because the excess overshoots into flicker of the opposite sign.
MAX_DEFLICKER_STRENGTH = 1.0

_SEED_SPACE = 2**32
# What a model that did not follow the prompt closely enough fails.
_PROMPT_ADHERENCE = frozenset({CheckKind.PRESENCE, CheckKind.COUNT, CheckKind.VANISH, CheckKind.FORBIDDEN,
                               CheckKind.INTERACTION, CheckKind.GATE})


@dataclass(frozen=True)
class AttemptParams:
    seed: int
    guidance: float
    segments: int
    deflicker_strength: float
    steps: int


Action = Literal["accept", "repair", "regenerate", "stop"]


@dataclass(frozen=True)
class RetryDecision:
    """What follows an attempt. `retry` is true for "repair" and "regenerate" (another
    judged try follows); `params` are that try's parameters (for "repair" only
    `deflicker_strength` differs: seed, guidance and segments are the attempt's own)."""

    retry: bool
    params: AttemptParams | None
    reason: str
    changes: dict  # parameter -> {"from": old, "to": new, "why": text}
    action: Action = "regenerate"


def next_seed(seed: int, attempt_number: int) -> int:
    """A seed far from `seed` in the generator's space, the same every time (splitmix64)."""
    x = (seed * 0x9E3779B97F4A7C15 + attempt_number * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    new = (x ^ (x >> 31)) % _SEED_SPACE
    return new if new != seed % _SEED_SPACE else (new + 1) % _SEED_SPACE


def fresh_seed(seed: int, tried: Collection[int] = ()) -> int:
    """The first seed of `seed`'s sequence (next_seed after 1, 2, ...) not in `tried`: a job
    version never draws the same sample twice, however often its runs are interrupted."""
    step = 1
    new = next_seed(seed, step)
    while new in tried:
        step += 1
        new = next_seed(seed, step)
    return new


def resume_params(initial: AttemptParams, last: Mapping | None, tried_seeds: Collection[int]) -> AttemptParams:
    """The parameters a job version's next run starts with: `initial` the first time; after
    earlier attempts (interrupted, or given a new budget), where the last one left off, with a
    seed never tried before."""
    if last is None:
        return initial
    previous = AttemptParams(**last)
    return replace(previous, seed=fresh_seed(previous.seed, {previous.seed, *tried_seeds}))


def plan_retry(
    params: AttemptParams,
    verdict: Verdict,
    *,
    attempt_number: int,
    max_attempts: int,
    valid_segments: Sequence[int] | None = None,
    tried_seeds: Collection[int] = (),
    repaired: bool = False,
) -> RetryDecision:
    """Decide what follows attempt `attempt_number` (1-based) of `max_attempts`.

    `valid_segments`: the segment counts the clip's frame count allows (None: any); a seam
    failure moves to the next one up, so the decision is exactly what the next attempt runs.
    `tried_seeds`: seeds this job version has already used, never drawn again.
    `repaired`: the verdict judged frames this policy already sent back for repair, so a
    second repair of the same sample is not offered.
    """
    failures = verdict.failures
    if not failures:
        return RetryDecision(False, None, "accepted", {}, "accept")
    last = "; ".join(c.reason for c in failures)

    flicker = _first(failures, lambda c: c.kind == CheckKind.FLICKER)
    stronger = _stronger_deflicker(params.deflicker_strength)
    if flicker and len(failures) == 1 and not repaired and stronger > params.deflicker_strength:
        change = {"from": params.deflicker_strength, "to": stronger, "why": flicker.reason}
        reason = (f"repair attempt {attempt_number}: deflicker the same frames again, strength "
                  f"{params.deflicker_strength} -> {stronger}, before generating anew, because {flicker.reason}")
        return RetryDecision(True, replace(params, deflicker_strength=stronger), reason,
                             {"deflicker_strength": change}, "repair")

    if attempt_number >= max_attempts:
        return RetryDecision(False, None, f"attempt budget of {max_attempts} spent; last failures: {last}", {}, "stop")

    changes: dict = {}
    new = replace(params, seed=fresh_seed(params.seed, {params.seed, *tried_seeds}))
    changes["seed"] = {"from": params.seed, "to": new.seed, "why": "every retry draws a new sample"}
    notes: list[str] = []

    adherence = _first(failures, lambda c: c.kind in _PROMPT_ADHERENCE)
    if adherence and params.guidance <= NO_GUIDANCE:
        notes.append(f"guidance {params.guidance:g} kept: classifier-free guidance is off (a distilled profile); "
                     "turning it on would double the transformer's passes and leave the regime it was distilled for")
    elif adherence:
        guidance = round(min(params.guidance * GUIDANCE_FACTOR, MAX_GUIDANCE), 3)
        if guidance > params.guidance:
            new = replace(new, guidance=guidance)
            changes["guidance"] = {"from": params.guidance, "to": guidance, "why": adherence.reason}
        else:
            notes.append(f"guidance already at its cap {MAX_GUIDANCE:g}")

    if flicker:
        if stronger > params.deflicker_strength:
            new = replace(new, deflicker_strength=stronger)
            changes["deflicker_strength"] = {"from": params.deflicker_strength, "to": stronger, "why": flicker.reason}
        elif repaired:
            notes.append(f"a repair at deflicker strength {params.deflicker_strength:g} did not remove the flicker")
        else:
            notes.append(f"deflicker already at full strength {MAX_DEFLICKER_STRENGTH:g}")

    seam = _first(failures, lambda c: c.kind == CheckKind.SEAM)
    if seam:
        more = _more_segments(params.segments, valid_segments)
        if more is not None:
            new = replace(new, segments=more)
            changes["segments"] = {"from": params.segments, "to": more, "why": seam.reason}
        else:
            notes.append(f"already at the most segments allowed ({params.segments})")

    steps = [f"{name} {c['from']} -> {c['to']}" for name, c in changes.items()]
    reason = f"retry {attempt_number + 1} of {max_attempts} with " + ", ".join(steps) + f" because {last}"
    if notes:
        reason += " (" + "; ".join(notes) + ")"
    return RetryDecision(True, new, reason, changes, "regenerate")


def _more_segments(segments: int, valid: Sequence[int] | None) -> int | None:
    """The next segment count above `segments` that the clip allows; None if there is none."""
    if valid is None:
        return segments + 1
    return min((n for n in valid if n > segments), default=None)


def _stronger_deflicker(strength: float) -> float:
    return min(max(strength + DEFLICKER_STEP, MIN_DEFLICKER_ON_RETRY), MAX_DEFLICKER_STRENGTH)


def _first(checks, predicate) -> Check | None:
    return next((c for c in checks if predicate(c)), None)
