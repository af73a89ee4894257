"""Prompt assembly: the prompt in parts (initial state, action sequence, the camera and the
look as the text gave them, environment) and one prompt per segment, segment k focusing on its
share of the timeline and continuing from k-1. The default look fills in only what the text
left unsaid, so a "soft studio lighting" prompt never also gets "natural light"."""
from __future__ import annotations

import re

from clipmill.planning.language import Language
from clipmill.planning.lexicon.shot_words import LIGHT_EN, LIGHT_ZH
from clipmill.planning.wording import bare_phrase, join_phrases, sentence


def describe_environment(location: str, language: Language, look: list[str] | None = None,
                         camera: list[str] | None = None, labels: list[str] | None = None, context: str = "",
                         camera_moves: bool = False) -> str:
    """The place, the text's own camera and look phrases, and the default look for what they leave
    out (`context`, the prompt itself: "at night" asks for no natural light)."""
    look, camera, labels = list(look or []), list(camera or []), list(labels or [])
    said = " ".join(look + camera + labels + [location, context])
    if language == "en":
        parts = [sentence(c) for c in camera] + [sentence(l).rstrip(".") for l in labels]
        parts += [f"Setting: {location}"] if location else []
        parts += [sentence(x) for x in look]
        default = (["natural light"] if not LIGHT_EN.search(said) else []) + ["realistic detail",
                                                                             "smooth continuous motion"]
        default += ["stable camera"] if not camera and not camera_moves else []
        parts.append(sentence(", ".join(default)))
        return " ".join(p.rstrip(".") + "." for p in parts if p)
    parts = camera + labels + ([f"场景：{location}"] if location else []) + look
    default = (["自然光线"] if not LIGHT_ZH.search(said) else []) + ["细节真实", "动作连贯流畅"]
    default += ["镜头稳定"] if not camera and not camera_moves else []
    parts.append("，".join(default))
    return "".join(p.rstrip("。") + "。" for p in parts if p)


def assemble(initial_state: str, actions: list[str], environment: str, language: Language,
             details: list[str] | None = None) -> str:
    parts = [initial_state] + [a for a in actions if a != initial_state] + list(details or [])
    if language == "en":
        return _unique_sentences(" ".join(sentence(p).rstrip(".") + "." for p in parts if p) + " " + environment)
    body = "。".join(p.rstrip("。") for p in parts if p)
    return (body + "。" if body else "") + environment  # a shot of camera moves alone opens on them


def _unique_sentences(text: str) -> str:
    """No sentence twice (a template's setting and the default one, say)."""
    seen, kept = set(), []
    for piece in re.split(r"(?<=[.!?])\s+", text.strip()):
        key = piece.lower().strip(" .")
        if key and key not in seen:
            seen.add(key)
            kept.append(piece)
    return " ".join(kept)


def segment_prompts(initial_state: str, actions: list[str], outcome: str, environment: str, subjects: list[str],
                    segments: int, language: Language, prompt: str) -> list[str]:
    if segments == 1:
        return [prompt]
    groups = _segment_groups(initial_state, actions, outcome, segments)
    cast = join_phrases([bare_phrase(s, language) for s in subjects], language) if subjects else ""
    segment_prompt = _segment_prompt_en if language == "en" else _segment_prompt_zh
    return [segment_prompt(k, group, k > 0 and groups[k - 1] == group, initial_state, environment, cast)
            for k, group in enumerate(groups)]


def _segment_groups(initial_state: str, actions: list[str], outcome: str, segments: int) -> list[list[str]]:
    """The steps each segment shows. Segment k takes an equal share of the timeline; a step may
    span several segments; with more segments than actions the outcome becomes a step of its own."""
    steps = list(actions) or [initial_state]
    if segments > len(steps) and outcome and outcome not in steps:
        steps.append(outcome)
    return [steps[k * len(steps) // segments : max((k + 1) * len(steps) // segments, k * len(steps) // segments + 1)]
            for k in range(segments)]


def _lower_first(text: str) -> str:
    return text if text[:2].isupper() or text.startswith("I ") else text[:1].lower() + text[1:]


def _segment_prompt_en(k: int, group: list[str], continuing: bool, initial_state: str, environment: str,
                       cast: str) -> str:
    action = ", then ".join([group[0].rstrip(".")] + [_lower_first(g.rstrip(".")) for g in group[1:]])
    if k == 0:
        opening = f"{initial_state.rstrip('.')}. " if initial_state and initial_state != action else ""
        return f"{opening}{sentence(action)}. {environment}"
    keep = f", with the same {cast}" if cast else ""
    verb = "still" if continuing else "next"
    return f"Continuing from the previous shot{keep}: {verb}, {action[:1].lower() + action[1:]}. {environment}"


def _segment_prompt_zh(k: int, group: list[str], continuing: bool, initial_state: str, environment: str,
                       cast: str) -> str:
    action = "，然后".join(g.rstrip("。") for g in group)
    if k == 0:
        opening = f"{initial_state.rstrip('。')}。" if initial_state and initial_state != action else ""
        return f"{opening}{action}。{environment}"
    keep = f"，{cast}保持不变" if cast else ""
    verb = "继续" if continuing else "接着"
    return f"接上一镜头{keep}：{verb}，{action}。{environment}"
