"""Prompt assembly: the three-part prompt (initial state, action sequence, environment) and one
prompt per segment, segment k focusing on its share of the actions and continuing from k-1."""
from __future__ import annotations

from clipmill.planning.language import Language
from clipmill.planning.wording import bare_phrase, join_phrases


def describe_environment(location: str, language: Language) -> str:
    if language == "en":
        place = f"Setting: {location}. " if location else ""
        return place + "Natural light, realistic detail, smooth continuous motion, stable camera."
    place = f"场景：{location}。" if location else ""
    return place + "自然光线，细节真实，动作连贯流畅，镜头稳定。"


def assemble(initial_state: str, actions: list[str], environment: str, language: Language) -> str:
    parts = [initial_state] + [a for a in actions if a != initial_state]
    if language == "en":
        return " ".join(p.rstrip(".") + "." for p in parts if p) + " " + environment
    return "。".join(p.rstrip("。") for p in parts if p) + "。" + environment


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


def _segment_prompt_en(k: int, group: list[str], continuing: bool, initial_state: str, environment: str,
                       cast: str) -> str:
    action = ", then ".join(g.rstrip(".") for g in group)
    if k == 0:
        opening = f"{initial_state.rstrip('.')}. " if initial_state and initial_state != action else ""
        return f"{opening}{action}. {environment}"
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
