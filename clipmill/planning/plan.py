"""`plan_shot`: free text (English or Chinese) becomes a `ShotPlan`, read top to bottom as steps."""
from __future__ import annotations

from dataclasses import dataclass, field

from clipmill.planning.assembly import assemble, describe_environment, segment_prompts
from clipmill.planning.counting import count_entities
from clipmill.planning.language import Language, detect_language
from clipmill.planning.negative_prompts import default_negative_prompt
from clipmill.planning.parsing import (
    Clause,
    ClauseReader,
    Event,
    Mention,
    find_location,
    find_mentions,
    has_verb,
    resolve_interaction,
    split_clauses,
)
from clipmill.planning.prompt_warnings import EXAMPLES, prompt_warnings
from clipmill.planning.shot_plan import ShotPlan
from clipmill.planning.states import describe_initial_state, describe_outcome
from clipmill.planning.wording import clean_action, sentence, starts_with_subject, with_subject
from qa.types import Expectations


def plan_shot(text: str, *, segments: int = 1, negative_prompt: str | None = None) -> ShotPlan:
    """Structure a free-text prompt (English or Chinese) into a `ShotPlan`.

    `segments` is the number of model windows the clip is made of; segment k's prompt
    focuses on the k-th step of the action sequence and continues from segment k-1.
    """
    # 1. check inputs
    source_text, text, language = _checked_text(text, segments)

    # 2. find subjects, location and clauses
    mentions = find_mentions(text, language)
    location, static_spans = find_location(text, language)
    clauses = split_clauses(text, language)

    # 3. read each clause: actions, and who does what to whom
    read = _read_clauses(text, language, mentions, clauses, static_spans)

    # 4. expectations
    classes, introducing, unstated = count_entities(mentions)
    interaction, opening, subject_classes, notes = resolve_interaction(read.events)
    expectations = Expectations(
        classes=classes,
        interaction=interaction.kind if interaction else None,
        subjects=subject_classes,
    )

    # 5. wording: initial state, outcome, prompt, segment prompts
    subjects = [m.phrase for m in introducing]
    initial_state = describe_initial_state(opening, introducing, read.state_parts, language)
    outcome = read.outcome or describe_outcome(interaction, read.actions, language)
    environment = describe_environment(location, language)
    prompt = assemble(initial_state, read.actions, environment, language)
    segment_texts = segment_prompts(initial_state, read.actions, outcome, environment, subjects, segments,
                                    language, prompt)

    # 6. warnings a person can act on
    warnings = prompt_warnings(text, language, introducing, unstated, read.actions, location, segments) + notes

    return ShotPlan(
        source_text=source_text,
        language=language,
        prompt=prompt,
        subjects=subjects,
        initial_state=initial_state,
        actions=read.actions,
        location=location,
        outcome=outcome,
        segment_prompts=segment_texts,
        negative_prompt=negative_prompt if negative_prompt is not None else default_negative_prompt(language),
        expectations=expectations,
        warnings=warnings,
    )


def _checked_text(text: str, segments: int) -> tuple[str, str, Language]:
    """The text as given, the text to read (English whitespace collapsed) and its language."""
    if text is None or not str(text).strip():
        raise ValueError("prompt text is empty; describe who is in the shot, what they do and where, e.g. "
                         + EXAMPLES["en"])
    if not isinstance(segments, int) or segments < 1:
        raise ValueError(f"segments must be a positive integer, got {segments!r}")
    source_text = str(text)
    text = " ".join(source_text.split()) if detect_language(source_text) == "en" else source_text.strip()
    return source_text, text, detect_language(text)


@dataclass
class _Reading:
    actions: list[str] = field(default_factory=list)
    state_parts: list[str] = field(default_factory=list)  # verbless clauses naming a subject
    events: list[Event] = field(default_factory=list)
    outcome: str = ""  # the action after "finally", "最后"


def _read_clauses(text: str, language: Language, mentions: list[Mention], clauses: list[Clause],
                  static_spans: list[tuple[int, int]]) -> _Reading:
    reader = ClauseReader(text, language, mentions)
    read = _Reading()
    for index, clause in enumerate(clauses):
        clause_mentions = [m for m in mentions if clause.start <= m.start and m.end <= clause.end]
        clause_events, agents = reader.read(index, clause)
        read.events.extend(clause_events)
        cleaned = clean_action(clause, static_spans, language)
        if not cleaned:
            continue
        if not has_verb(clause.text, language):
            if clause_mentions:
                read.state_parts.append(cleaned)
            continue
        subject_written = bool(clause_mentions) and clause_mentions[0].start - clause.start < 3 or \
            starts_with_subject(clause.text, language)
        action = with_subject(cleaned, agents, subject_written, language)
        read.actions.append(sentence(action) if language == "en" else action)
        if clause.outcome_marker:
            read.outcome = read.actions[-1]
    return read
