"""Prompt structuring: free text (English or Chinese) or a keyword becomes a shot plan.

A shot plan is what the generator is asked for (a prompt in three parts: initial state,
action sequence, environment; one action prompt per segment) and what QA will hold the
clip to (`qa.types.Expectations`: COCO classes and counts, the interaction). It is
rule-based on purpose: every expectation can be traced to words in the prompt, and a
subject the lexicon (`clipmill.lexicon`) does not know never becomes an expectation the
detector cannot meet.
"""
from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Mapping

import yaml

from clipmill.lexicon import (
    DEFAULT_NEGATIVE_PROMPT_EN,
    DEFAULT_NEGATIVE_PROMPT_ZH,
    DEFINITE_EN,
    GENERIC_SUBJECTS,
    NUMBERS_EN,
)
from clipmill.prompt_parsing import (
    GROUP_MEMBER_RE,
    PRONOUN_RE,
    Clause,
    ClauseReader,
    Event,
    Language,
    Mention,
    find_location,
    find_mentions,
    has_verb,
    resolve_interaction,
    split_clauses,
)
from qa.types import Expectations


# --- public types -------------------------------------------------------------------


@dataclass
class ShotPlan:
    source_text: str
    language: Language
    prompt: str
    subjects: list[str]
    initial_state: str
    actions: list[str]
    location: str
    outcome: str
    segment_prompts: list[str]
    negative_prompt: str
    expectations: Expectations
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "source_text": self.source_text,
            "language": self.language,
            "prompt": self.prompt,
            "subjects": list(self.subjects),
            "initial_state": self.initial_state,
            "actions": list(self.actions),
            "location": self.location,
            "outcome": self.outcome,
            "segment_prompts": list(self.segment_prompts),
            "negative_prompt": self.negative_prompt,
            "expectations": self.expectations.to_dict(),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class PromptTemplate:
    """A keyword template: text and default variables per language ("en", "zh")."""

    name: str
    description: str
    text: Mapping[str, str]
    defaults: Mapping[str, Mapping[str, str]]

    def variables(self, language: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self.text[language]) if name}


TEMPLATES_ENV = "CLIPMILL_TEMPLATES"


def _template_from(data: object, where: str) -> PromptTemplate:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not isinstance(data.get("text"), dict):
        raise ValueError(f"{where}: a template is a mapping with 'name' and 'text' (per language: en, zh)")
    if "en" not in data["text"]:
        raise ValueError(f"{where}: template {data['name']!r} needs an 'en' text (the fallback language)")
    try:
        template = PromptTemplate(
            name=data["name"],
            description=data.get("description", ""),
            text={lang: str(text) for lang, text in data["text"].items()},
            defaults={lang: {k: str(v) for k, v in values.items()}
                      for lang, values in (data.get("defaults") or {}).items()},
        )
        for language in template.text:
            if "keyword" not in template.variables(language):
                raise ValueError(f"its {language} text has no {{keyword}}")
    except (ValueError, AttributeError) as error:
        raise ValueError(f"{where}: template {data['name']!r}: {error}") from None
    return template


def load_template_dir(folder: str | Path) -> dict[str, PromptTemplate]:
    """Every `*.yaml` template in `folder` (a channel's or brand's own), by name."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ValueError(f"{folder}: template folder not found")
    templates = {}
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise ValueError(f"{path}: cannot read template ({error})") from None
        template = _template_from(data, str(path))
        if template.name in templates:
            raise ValueError(f"{path}: template {template.name!r} is defined twice in {folder}")
        templates[template.name] = template
    return templates


def _load_templates() -> dict[str, PromptTemplate]:
    templates = {}
    for entry in sorted(resources.files("clipmill").joinpath("templates").iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        template = _template_from(yaml.safe_load(entry.read_text(encoding="utf-8")), entry.name)
        templates[template.name] = template
    # Folders named by $CLIPMILL_TEMPLATES (os.pathsep-separated) add templates or replace built-ins.
    for folder in filter(None, os.environ.get(TEMPLATES_ENV, "").split(os.pathsep)):
        templates.update(load_template_dir(folder))
    return templates


TEMPLATES: dict[str, PromptTemplate] = _load_templates()


def add_templates(folder: str | Path) -> list[str]:
    """Load a folder's templates into `TEMPLATES` (the `--templates DIR` option); their names."""
    loaded = load_template_dir(folder)
    TEMPLATES.update(loaded)
    return sorted(loaded)


def detect_language(text: str) -> Language:
    han = len(re.findall(r"[\u3400-\u9fff]", text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    return "zh" if han > latin_words else "en"


def expand_template(keyword: str, template: str, variables: dict[str, str] | None = None) -> str:
    """Fill a template (built-in or loaded, see `add_templates`) with `keyword` (and optional
    overrides of its variables).

    The template's language follows the keyword's: a Chinese keyword gets the Chinese text.
    """
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}; known templates: {', '.join(sorted(TEMPLATES))}")
    keyword = " ".join((keyword or "").split())
    if not keyword:
        raise ValueError("keyword is empty; give the trending keyword or product name to build the prompt around")
    chosen = TEMPLATES[template]
    language = detect_language(keyword + "".join((variables or {}).values()))
    if language not in chosen.text:
        language = "en"
    allowed = chosen.variables(language) - {"keyword"}
    unknown = set(variables or {}) - allowed
    if unknown:
        raise ValueError(
            f"template {template!r} has no variable(s) {', '.join(sorted(unknown))}; "
            f"it takes: {', '.join(sorted(allowed))}"
        )
    values = {**chosen.defaults.get(language, {}), **(variables or {}), "keyword": keyword}
    missing = allowed - set(values)
    if missing:
        raise ValueError(f"template {template!r} needs a value for: {', '.join(sorted(missing))}")
    return " ".join(chosen.text[language].format_map(values).split())


# --- counting -------------------------------------------------------------------------


def _count_entities(mentions: list[Mention]) -> tuple[dict[str, int], list[Mention], list[Mention]]:
    """Class counts, the mentions that introduce an entity, and those whose number was unstated.

    A word seen before refers back ("a man ... the man"); a definite new word for a class
    already present does too ("a dog ... the puppy"), except for people, where "the woman"
    after "a man" is somebody new.
    """
    counts_by_head: dict[str, int] = {}
    introducing: list[Mention] = []
    unstated: list[Mention] = []
    classes_seen: set[str] = set()
    for mention in mentions:
        if mention.pronoun:
            continue
        head = mention.head
        stated = mention.count
        if head in counts_by_head:
            if mention.another and counts_by_head[head] < 2:
                counts_by_head[head] += 1
            elif stated is not None:
                counts_by_head[head] = max(counts_by_head[head], stated)
            continue
        generic_person = head in ("person", "people", "人", "人们") and mention.definite
        if mention.coco in classes_seen and (mention.definite and mention.coco != "person" or generic_person):
            continue
        if stated is None:
            unstated.append(mention)
            stated = 2
        counts_by_head[head] = stated
        introducing.append(mention)
        if mention.coco:
            classes_seen.add(mention.coco)
    classes: dict[str, int] = {}
    for mention in introducing:
        if mention.coco:
            classes[mention.coco] = classes.get(mention.coco, 0) + counts_by_head[mention.head]
    return classes, introducing, unstated


# --- wording ----------------------------------------------------------------------------

_VAGUE_WORDS = {
    "en": re.compile(r"\b(something|somehow|stuff|things?|anything|whatever|funny|cool|interesting|nice|random|"
                     r"awesome|some kind of|doing|move|moving|animate)\b", re.I),
    "zh": re.compile(r"(什么|某种|一些|东西|有趣|好玩|随便|动起来|动一动|搞笑|点什么|some|有意思)"),
}
_EXAMPLES = {
    "en": "'A brown dog runs across a sunny park and catches a red ball'",
    "zh": "“一只棕色的小狗在阳光明媚的公园里奔跑，跳起来接住红色的球”",
}


def _definite(phrase: str, language: Language) -> str:
    if language == "zh":
        return phrase
    words = phrase.split()
    if words and words[0][:1].isupper() and not words[0].isupper():
        words[0] = words[0].lower()
    if words and words[0].lower() in ("a", "an", "one", "another", "some"):
        words = words[1:]
    if words and words[0].lower() in DEFINITE_EN:
        return " ".join(words)
    return "the " + " ".join(words)


def _bare(phrase: str, language: Language) -> str:
    return _definite(phrase, language).removeprefix("the ") if language == "en" else phrase


def _sentence(text: str) -> str:
    text = text.strip().strip(",;，；").strip()
    return text[:1].upper() + text[1:] if text else text


def _join(phrases: list[str], language: Language) -> str:
    if language == "zh":
        return "和".join(phrases[:2]) + ("、" + "、".join(phrases[2:]) if phrases[2:] else "")
    if len(phrases) <= 2:
        return " and ".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def _clean_action(clause: Clause, cut_spans: list[tuple[int, int]], language: Language) -> str:
    pieces, position = [], clause.start
    for start, end in sorted(cut_spans):
        if clause.start <= start and end <= clause.end:
            pieces.append(_text_of(clause, position, start))
            position = end
    pieces.append(_text_of(clause, position, clause.end))
    text = "".join(pieces)
    text = re.sub(r"\s+", " ", text).strip(" ,;，；") if language == "en" else text.replace(" ", "").strip("，；")
    return text


def _text_of(clause: Clause, start: int, end: int) -> str:
    return clause.text[start - clause.start : end - clause.start]


def _with_subject(action: str, agents: list[Mention], clause_has_subject: bool, language: Language) -> str:
    """Give a verb-first action its subject back, so a segment prompt stands on its own."""
    if not agents or not action:
        return action
    agent = agents[0]
    member = GROUP_MEMBER_RE[language].match(action)
    if member and agent.member:
        rest = action[member.end() :]
        if language == "zh" and not rest.startswith(agent.head):
            return member.group(0) + agent.head + rest
        if language == "en" and not rest.strip().lower().startswith(agent.head):
            return f"{member.group(0)} {agent.head}{rest}"
        return action
    if clause_has_subject:
        return action
    if language == "en":
        first = action.split()[0].lower()
        if agent.pronoun or first in ("he", "she", "it", "they", "the", "a", "an", "one", "another"):
            return action
        return f"{_definite(' and '.join(a.phrase for a in agents), 'en')} {action}"
    if re.match(r"^[它他她]", action):
        return action
    return agent.head + action


# --- the plan ---------------------------------------------------------------------------


def plan_shot(text: str, *, segments: int = 1, negative_prompt: str | None = None) -> ShotPlan:
    """Structure a free-text prompt (English or Chinese) into a `ShotPlan`.

    `segments` is the number of model windows the clip is made of; segment k's prompt
    focuses on the k-th step of the action sequence and continues from segment k-1.
    """
    # 1. check inputs
    if text is None or not str(text).strip():
        raise ValueError("prompt text is empty; describe who is in the shot, what they do and where, e.g. "
                         + _EXAMPLES["en"])
    if not isinstance(segments, int) or segments < 1:
        raise ValueError(f"segments must be a positive integer, got {segments!r}")
    source_text = str(text)
    text = " ".join(source_text.split()) if detect_language(source_text) == "en" else source_text.strip()
    language = detect_language(text)

    # 2. find subjects, location and clauses
    mentions = find_mentions(text, language)
    location, static_spans = find_location(text, language)
    clauses = split_clauses(text, language)

    # 3. read each clause: actions, and who does what to whom
    reader = ClauseReader(text, language, mentions)
    actions: list[str] = []
    state_parts: list[str] = []
    events: list[Event] = []
    outcome = ""
    for index, clause in enumerate(clauses):
        clause_mentions = [m for m in mentions if clause.start <= m.start and m.end <= clause.end]
        clause_events, agents = reader.read(index, clause)
        events.extend(clause_events)
        cleaned = _clean_action(clause, static_spans, language)
        if not cleaned:
            continue
        if not has_verb(clause.text, language):
            if clause_mentions:
                state_parts.append(cleaned)
            continue
        subject_written = bool(clause_mentions) and clause_mentions[0].start - clause.start < 3 or \
            _starts_with_subject(clause.text, language)
        action = _with_subject(cleaned, agents, subject_written, language)
        actions.append(_sentence(action) if language == "en" else action)
        if clause.outcome_marker:
            outcome = actions[-1]

    # 4. expectations
    classes, introducing, unstated = _count_entities(mentions)
    interaction, opening, subject_classes, notes = resolve_interaction(events)
    expectations = Expectations(
        classes=classes,
        interaction=interaction.kind if interaction else None,
        subjects=subject_classes,
    )

    # 5. wording: initial state, outcome, prompt, segment prompts
    subjects = [m.phrase for m in introducing]
    initial_state = _initial_state(opening, introducing, state_parts, language)
    outcome = outcome or _outcome(interaction, actions, language)
    environment = _environment(location, language)
    prompt = _assemble(initial_state, actions, environment, language)
    segment_prompts = _segment_prompts(initial_state, actions, outcome, environment, subjects, segments, language,
                                       prompt)

    # 6. warnings a person can act on
    warnings = _warnings(text, language, mentions, introducing, unstated, actions, location, segments) + notes

    return ShotPlan(
        source_text=source_text,
        language=language,
        prompt=prompt,
        subjects=subjects,
        initial_state=initial_state,
        actions=actions,
        location=location,
        outcome=outcome,
        segment_prompts=segment_prompts,
        negative_prompt=negative_prompt if negative_prompt is not None else (
            DEFAULT_NEGATIVE_PROMPT_ZH if language == "zh" else DEFAULT_NEGATIVE_PROMPT_EN),
        expectations=expectations,
        warnings=warnings,
    )


def _starts_with_subject(clause_text: str, language: Language) -> bool:
    if language == "en":
        first = clause_text.split()[0].lower() if clause_text.split() else ""
        return first in ("he", "she", "it", "they", "we", "i", "you", "the", "a", "an", "one", "another") \
            or first in NUMBERS_EN
    return bool(re.match(r"^(?:[它他她我你]|另一|其中一)", clause_text))


def _participants(event: Event) -> tuple[Mention, Mention | None, Mention | None]:
    """Agent, the other party (patient, or the second of "a man and a woman") and the object."""
    agent = event.agents[0]
    other = event.patient if event.patient is not None and not event.patient.pronoun else None
    if other is None and len(event.agents) > 1:
        other = event.agents[1]
    obj = event.obj if event.obj is not None and not event.obj.pronoun else None
    return agent, other, obj


def _initial_state(event: Event | None, introducing: list[Mention], state_parts: list[str],
                   language: Language) -> str:
    if state_parts:
        return "，".join(state_parts) if language == "zh" else _sentence(", ".join(state_parts))
    phrases = [m.phrase for m in introducing]
    if event is None or not event.agents:
        if not phrases:
            return ""
        return _join(phrases, language) if language == "zh" else _sentence(_join(phrases, language))
    agent, other, obj_mention = _participants(event)
    same_group = agent.member and (other is None or other.head == agent.head)
    group_phrase = next((m.phrase for m in introducing if m.head == agent.head), agent.phrase)
    obj = obj_mention.phrase if obj_mention is not None else ""
    a = group_phrase if agent.member else agent.phrase
    b = other.phrase if other is not None and not same_group else ""
    if language == "en":
        templates = {
            "handover": (f"{a}, one of them holding {obj}" if same_group and obj else
                         f"{a} holding {obj}, {b} nearby" if obj and b else f"{a} and {b} facing each other"),
            "approach": f"{a} and {b} some distance apart",
            "contact": f"{a} and {b} close to each other" if b else f"{a} close to each other",
            "enter": f"{a} just outside {b or 'the frame'}",
            "leave": f"{a} inside {b or 'the frame'}",
        }
    else:
        templates = {
            "handover": (f"{a}，其中一只拿着{obj}" if same_group and obj else
                         f"{a}拿着{obj}，{b}在旁边" if obj and b else f"{a}和{b}面对面"),
            "approach": f"{a}和{b}相隔一段距离",
            "contact": f"{a}和{b}挨得很近" if b else f"{a}挨得很近",
            "enter": f"{a}在{b or '画面'}外",
            "leave": f"{a}在{b or '画面'}中",
        }
    state = templates[event.kind]
    others = [m.phrase for m in introducing if m.phrase not in (a, b, obj)]
    if others:
        state += (", with " + _join(others, "en")) if language == "en" else ("，旁边有" + _join(others, "zh"))
    return _sentence(state) if language == "en" else state


def _outcome(event: Event | None, actions: list[str], language: Language) -> str:
    if event is not None and event.agents:
        agent_mention, other_mention, obj_mention = _participants(event)
        agent = agent_mention.phrase
        other = other_mention.phrase if other_mention is not None else ""
        obj = obj_mention.phrase if obj_mention is not None else ""
        if language == "en":
            agent, other, obj = _definite(agent, "en"), _definite(other, "en") if other else "", \
                _definite(obj, "en") if obj else ""
            outcomes = {
                "handover": f"{other} has {obj}" if other and obj else f"{other or 'the other'} has received it",
                "approach": f"{agent} is right next to {other}",
                "contact": f"{agent} and {other} are touching" if other else f"{agent} are touching",
                "enter": f"{agent} is inside {other or 'the frame'}",
                "leave": f"{agent} has left {other or 'the frame'}",
            }
            return _sentence(outcomes[event.kind])
        outcomes = {
            "handover": f"{other or '另一方'}拿到了{obj or '东西'}",
            "approach": f"{agent}来到{other}身边",
            "contact": f"{agent}和{other}贴在一起" if other else f"{agent}贴在一起",
            "enter": f"{agent}进入了{other or '画面'}",
            "leave": f"{agent}离开了{other or '画面'}",
        }
        return outcomes[event.kind]
    return actions[-1] if actions else ""


def _environment(location: str, language: Language) -> str:
    if language == "en":
        place = f"Setting: {location}. " if location else ""
        return place + "Natural light, realistic detail, smooth continuous motion, stable camera."
    place = f"场景：{location}。" if location else ""
    return place + "自然光线，细节真实，动作连贯流畅，镜头稳定。"


def _assemble(initial_state: str, actions: list[str], environment: str, language: Language) -> str:
    if language == "en":
        parts = [initial_state] + [a for a in actions if a != initial_state]
        return " ".join(p.rstrip(".") + "." for p in parts if p) + " " + environment
    parts = [initial_state] + [a for a in actions if a != initial_state]
    return "。".join(p.rstrip("。") for p in parts if p) + "。" + environment


def _segment_prompts(initial_state: str, actions: list[str], outcome: str, environment: str, subjects: list[str],
                     segments: int, language: Language, prompt: str) -> list[str]:
    if segments == 1:
        return [prompt]
    steps = list(actions) or [initial_state]
    if segments > len(steps) and outcome and outcome not in steps:
        steps.append(outcome)
    # Segment k takes an equal share of the timeline; a step may span several segments.
    groups = [steps[k * len(steps) // segments : max((k + 1) * len(steps) // segments, k * len(steps) // segments + 1)]
              for k in range(segments)]
    prompts = []
    cast = _join([_bare(s, language) for s in subjects], language) if subjects else ""
    for k, group in enumerate(groups):
        continuing = k > 0 and groups[k - 1] == group
        if language == "en":
            action = ", then ".join(g.rstrip(".") for g in group)
            if k == 0:
                opening = f"{initial_state.rstrip('.')}. " if initial_state and initial_state != action else ""
                prompts.append(f"{opening}{action}. {environment}")
            else:
                keep = f", with the same {cast}" if cast else ""
                verb = "still" if continuing else "next"
                prompts.append(f"Continuing from the previous shot{keep}: {verb}, {action[:1].lower() + action[1:]}. "
                               f"{environment}")
        else:
            action = "，然后".join(g.rstrip("。") for g in group)
            if k == 0:
                opening = f"{initial_state.rstrip('。')}。" if initial_state and initial_state != action else ""
                prompts.append(f"{opening}{action}。{environment}")
            else:
                keep = f"，{cast}保持不变" if cast else ""
                verb = "继续" if continuing else "接着"
                prompts.append(f"接上一镜头{keep}：{verb}，{action}。{environment}")
    return prompts


def _warnings(text: str, language: Language, mentions: list[Mention], introducing: list[Mention],
              unstated: list[Mention], actions: list[str], location: str, segments: int) -> list[str]:
    warnings: list[str] = []
    example = _EXAMPLES[language]
    vague = sorted({m.group(0).lower() for m in _VAGUE_WORDS[language].finditer(text)})
    if not introducing:
        pronoun = PRONOUN_RE[language].search(text) or re.search(r"\b(he|she|they)\b", text, re.I)
        who = f" (only {pronoun.group(0)!r})" if pronoun else ""
        warnings.append(f"vague prompt: no recognisable subject{who}; say who or what is in the shot, e.g. {example}")
    if vague:
        warnings.append(
            f"vague prompt: {', '.join(repr(v) for v in vague)} does not say what to show; name the subject, "
            f"the concrete action and the place, e.g. {example}"
        )
    generic = [m.phrase for m in introducing if m.head in GENERIC_SUBJECTS]
    if generic:
        suggestion = "'two puppies', 'a kitten'" if language == "en" else "“两只小狗”、“一只小猫”"
        warnings.append(f"{', '.join(repr(g) for g in generic)} is not specific: the generator picks anything and QA "
                        f"cannot check it; name the kind, e.g. {suggestion}")
    if not actions:
        warnings.append(f"no action found: say what the subject does, e.g. {example}")
    for mention in unstated:
        if mention.coco is None:
            continue
        number = "two" if language == "en" else "两"
        warnings.append(f"{mention.phrase!r} gives no number; QA will expect 2 — write the count, e.g. "
                        f"'{number} {mention.phrase.split()[-1]}'" if language == "en" else
                        f"“{mention.phrase}”没有写数量，QA 将按 2 个检查；请写明数量，例如“{number}个{mention.head}”")
    if not location:
        place = "'in a sunny park'" if language == "en" else "“在阳光明媚的公园里”"
        warnings.append(f"no location: the generator will invent one; add a place, e.g. {place}")
    if segments > 1 and len(actions) < segments:
        warnings.append(f"{segments} segments but {len(actions)} action(s): later segments repeat an action; "
                        f"describe one step per segment for a livelier timeline")
    return warnings
