"""`plan_shot`: free text (English or Chinese) becomes a `ShotPlan`, read top to bottom as steps."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from clipmill.planning.assembly import assemble, describe_environment, segment_prompts
from clipmill.planning.confidence import decide, with_order_note
from clipmill.planning.counting import (absent_classes, count_entities, with_pronoun_subject, without_group_details,
                                        without_attributes)
from clipmill.planning.language import Language, detect_language
from clipmill.planning.lexicon.shot_words import CAMERA_EN, CAMERA_ZH, LABEL_RE
from clipmill.planning.negative_prompts import default_negative_prompt, with_absent
from clipmill.planning.lexicon.shot_words import SETTING_LABELS
from clipmill.planning.parsing.ordering import in_event_order
from clipmill.planning.parsing import (
    Clause,
    ClauseReader,
    Event,
    Mention,
    clause_role,
    find_absence,
    find_location,
    find_mentions,
    has_verb,
    opens_with,
    resolve_interaction,
    split_clauses,
    starts_with_verb,
)
from clipmill.planning.prompt_warnings import EXAMPLES, open_vocabulary, prompt_warnings, unchecked_notes
from clipmill.planning.shot_plan import ShotPlan
from clipmill.planning.states import describe_initial_state, describe_outcome
from clipmill.planning.wording import clean_action, sentence, starts_with_subject, with_subject
from clipmill.qa.types import Expectations


def plan_shot(text: str, *, segments: int = 1, negative_prompt: str | None = None, extender=None) -> ShotPlan:
    """Structure a free-text prompt (English or Chinese) into a `ShotPlan`.

    `segments` is the number of model windows the clip is made of; segment k's prompt
    focuses on the k-th step of the action sequence and continues from segment k-1.
    `extender` (a `clipmill.planning.extender.PromptExtender`, off by default) lets a local
    instruct model rewrite the prompt and plan it; on any failure the rules plan is used and
    the reason is kept in `notes`.
    """
    if extender is not None:
        return extender.plan(text, segments=segments, negative_prompt=negative_prompt)

    # 1. check inputs
    source_text, text, language = _checked_text(text, segments)

    # 2. find subjects, what is said to be absent, location and clauses
    mentions = find_mentions(text, language)
    absence = find_absence(text, language, mentions)
    location, static_spans = find_location(text, language)
    as_written = split_clauses(text, language)
    clauses = in_event_order(text, as_written, language)  # "before"/"after" clauses where their events are
    reordered = [c.start for c in clauses] != [c.start for c in as_written]
    roles = _clause_roles(clauses, language, mentions)
    all_mentions, mentions = mentions, _subject_mentions(mentions, clauses, roles, language, text)

    # 3. read each clause: its role (action, state, camera, look), and who does what to whom
    read = _read_clauses(text, language, mentions, clauses, roles, static_spans + absence.cut_spans,
                         absence.cut_spans)

    # 4. expectations
    classes, introducing, unstated = count_entities(without_attributes(without_group_details(mentions, text), text), language)
    named_person = "person" in classes
    classes = with_pronoun_subject(classes, text, language)
    interaction, opening, subject_classes, notes = resolve_interaction(read.events)
    absent = absent_classes(all_mentions, classes, absence.nobody)
    unknown_to_coco = open_vocabulary(introducing)
    derived = Expectations(
        classes=classes,
        interaction=interaction.kind if interaction else None,
        subjects=subject_classes,
        forbidden=tuple(absent),  # QA fails a clip that shows what the text rules out
        open_vocabulary=tuple(unknown_to_coco),
    )
    # only the rules the planner is sure of are enforced; the others are kept as unchecked, with why
    expectations = decide(derived, text=text, language=language, mentions=all_mentions, introducing=introducing,
                          unstated=unstated, absence=absence, pronoun_person="person" in classes and not named_person,
                          interaction_event=interaction,
                          time_clause=interaction is not None and clauses[interaction.clause].time_clause,
                          time_spans=[(c.start, c.end) for c in clauses if c.time_clause],
                          later_spans=[(c.start, c.end) for c in clauses if c.later_event] if language == "en" else [])
    if reordered:  # the order of events came from "before"/"after" words: shown, never checked by QA
        expectations = with_order_note(expectations, read.actions, text, language)

    # 5. wording: initial state, outcome, prompt, segment prompts
    subjects = [m.phrase for m in introducing if not m.counted_only]
    initial_state = describe_initial_state(opening, introducing, read.state_parts, language,
                                           read.actions + read.camera + read.details, location)
    outcome = read.outcome or describe_outcome(interaction, read.actions, language)
    environment = describe_environment(location, language, read.look, read.camera, read.labels, text)
    prompt = assemble(initial_state, read.actions, environment, language, read.details)
    timeline, segment_environment = read.actions, environment
    if len(read.actions) < segments and read.camera:
        # a product shot's steps are its camera moves: each segment takes its share of them
        timeline = read.actions + read.camera
        segment_environment = describe_environment(location, language, read.look, [], read.labels, text,
                                                   camera_moves=True)
    segment_texts = segment_prompts(initial_state, timeline, outcome, segment_environment, subjects, segments,
                                    language, prompt)

    # 6. warnings a person can act on, and what QA's COCO detector cannot check
    warnings = prompt_warnings(text, language, introducing, unstated, timeline, location, segments) + notes

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
        negative_prompt=with_absent(negative_prompt if negative_prompt is not None
                                    else default_negative_prompt(language), absence.negated_words + read.negative,
                                    language),
        expectations=expectations,
        warnings=warnings,
        absent=absent,
        open_vocabulary=unknown_to_coco,
        camera=read.camera,
        look=read.look,
        notes=unchecked_notes(introducing, language),
    )


def _checked_text(text: str, segments: int) -> tuple[str, str, Language]:
    """The text as given, the text to read (English whitespace collapsed) and its language."""
    if text is None or not str(text).strip():
        raise ValueError("prompt text is empty; describe who is in the shot, what they do and where, e.g. "
                         + EXAMPLES["en"])
    if not isinstance(segments, int) or segments < 1:
        raise ValueError(f"segments must be a positive integer, got {segments!r}")
    source_text = str(text)
    # hashtags ("#viral", "#新品上市#") and emoji are for the feed, not the shot
    readable = _EMOJI.sub(" ", _HASHTAG.sub(" ", source_text))
    if not readable.strip():
        readable = source_text
    text = " ".join(readable.split()) if detect_language(readable) == "en" else readable.strip()
    return source_text, text, detect_language(text)


_HASHTAG = re.compile(r"#[^#\s]{1,30}#|#\w+")
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]")


@dataclass
class _Reading:
    actions: list[str] = field(default_factory=list)
    state_parts: list[str] = field(default_factory=list)  # verbless clauses naming a subject
    camera: list[str] = field(default_factory=list)
    look: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # "Opening hook: ..." (the setting is the location)
    details: list[str] = field(default_factory=list)  # verbless clauses naming no subject
    negative: list[str] = field(default_factory=list)  # what a "Negative:" sentence lists
    events: list[Event] = field(default_factory=list)
    outcome: str = ""  # the action after "finally", "最后"


def _clause_roles(clauses: list[Clause], language: Language, mentions: list[Mention]) -> list[str]:
    roles: list[str] = []
    for clause in clauses:
        inside = [m for m in mentions if clause.start <= m.start and m.end <= clause.end]
        roles.append(clause_role(clause, language, inside, roles[-1] if roles else ""))
    return roles


def _subject_mentions(mentions: list[Mention], clauses: list[Clause], roles: list[str],
                      language: Language, text: str = "") -> list[Mention]:
    """The mentions that name something in the shot: not the "drone" of "aerial drone shot" nor
    the "hook" of "Opening hook:"; a plural with no number after a counted group gets the
    group's number ("three friends toast with glasses of wine": three glasses)."""
    def off_screen(m: Mention) -> bool:
        """In a look, label or negative clause, or the equipment before a camera word ("drone shot")."""
        for c, role in zip(clauses, roles):
            if not c.start <= m.start < c.end:
                continue
            if role in ("look", "negative", "skip") or role == "label" and c.label not in SETTING_LABELS:
                return True
            if role == "camera":
                found = list((CAMERA_EN if language == "en" else CAMERA_ZH).finditer(c.text))
                return bool(found) and m.start < c.start + found[-1].start()  # "aerial drone shot"
        return False

    def film_camera(m: Mention) -> bool:
        """"smiles at the camera": the film crew's camera, unless it is what the shot shows."""
        if m.head not in ("camera", "film camera", "相机"):
            return False
        return not any(c.start <= m.start < c.end and role in ("state", "action") and opens_with(c, m, language)
                       for c, role in zip(clauses, roles))

    kept = [m for m in mentions if not off_screen(m) and not film_camera(m)]
    for clause, role in zip(clauses, roles):
        inside = [m for m in kept if clause.start <= m.start and m.end <= clause.end and not m.negated]
        if role != "action" or not inside or not opens_with(clause, inside[0], language):
            continue
        group = inside[0].count
        if group is not None and group >= 2 and inside[0].coco is not None:
            for mention in inside[1:]:
                if mention.count is None and mention.coco not in (None, "person") and not mention.definite:
                    # "three teenagers ride bicycles": one each; "a family loads suitcases": a guess
                    each = _ONE_EACH.search(text[inside[0].end : mention.start])
                    mention.count, mention.count_from_group = group, each is None
    return kept


_ONE_EACH = re.compile(r"\b(?:ride|rides|riding|rode|hold|holds|holding|held|wear|wears|wearing|raise|raises|raising|"
                       r"toast|toasts|toasting|clink|clinks|clinking|each)\b|骑|举着|举起|戴着|拿着|每人|各自", re.I)


def _read_clauses(text: str, language: Language, mentions: list[Mention], clauses: list[Clause],
                  roles: list[str], cut_spans: list[tuple[int, int]],
                  negation_spans: list[tuple[int, int]] = ()) -> _Reading:
    reader = ClauseReader(text, language, mentions)
    read = _Reading()
    for index, (clause, role) in enumerate(zip(clauses, roles)):
        clause_mentions = [m for m in mentions if clause.start <= m.start and m.end <= clause.end]
        if role == "skip":
            continue
        if role == "label":
            if clause.label not in SETTING_LABELS:
                read.labels.append(clause.text)
            continue
        if role == "negative":  # "Negative: text, watermark"
            read.negative.append(LABEL_RE.sub("", clause.text).strip())
            continue
        cleaned = clean_action(clause, cut_spans, language)
        negated_away = any(clause.start <= s < clause.end or s <= clause.start < e for s, e in negation_spans)
        if negated_away and (not cleaned or _only_leftovers(cleaned, language) or role in ("camera", "look")
                             and not has_verb(cleaned, language)):
            continue  # "no people in the background", "画面里不要有狗": said in the negative prompt
        if role in ("camera", "look"):
            cleaned = cleaned or clause.text
            if role == "camera" and read.camera and (starts_with_verb(cleaned, language) if language == "en"
                                                     else _CAMERA_MOVE_ZH.match(cleaned)):
                cleaned = ("the camera " if language == "en" else "镜头") + cleaned  # "..., then pushes in"
            (read.camera if role == "camera" else read.look).append(cleaned)
            continue
        clause_events, agents = reader.read(index, clause)
        read.events.extend(clause_events)
        if not cleaned or _only_leftovers(cleaned, language):
            continue
        if role == "state":
            read.state_parts.append(cleaned)
            continue
        if role == "detail":
            read.details.append(cleaned)
            continue
        present = [m for m in clause_mentions if not m.negated]
        # a subject is written unless the clause opens on its verb ("slides the cup", "扑到床上")
        subject_written = not starts_with_verb(cleaned, language) and (
            bool(present) and opens_with(clause, present[0], language) or starts_with_subject(clause.text, language)
            or not (clause.after_then or index > 0))
        subject_written = subject_written or not starts_with_verb(cleaned, language)
        if language == "zh" and any(text[m.start - 1 : m.start] == "的" and m.start - clause.start <= 16
                                    for m in present):
            subject_written = True  # "穿着白裙子的新娘走向新郎": the subject comes after its description
        if language == "zh" and clause.sequence and not (present and opens_with(clause, present[0], language)) \
                and not re.match(r"[它他她]", cleaned):
            subject_written = False  # "然后上车": the step after "then" is the same subject's
        action = with_subject(cleaned, agents, subject_written, language)
        read.actions.append(sentence(action) if language == "en" else action)
        if clause.outcome_marker:
            read.outcome = read.actions[-1]
    return read


_CAMERA_MOVE_ZH = re.compile(r"(?:缓缓|慢慢|快速|迅速|轻轻)?(?:推|拉|摇|移|跟|环绕|旋转|升|降|俯|仰|转)")


def _only_leftovers(cleaned: str, language: Language) -> bool:
    """What a cut leaves behind ("around", "just"): not worth a sentence."""
    if language == "zh":
        return len(cleaned) <= 1 or bool(re.fullmatch(r"(?:画面|镜头|场景|屋|房间)?(?:里|中|内)?", cleaned))
    return all(w in _LEFTOVER_WORDS for w in cleaned.lower().replace(",", " ").split())


_LEFTOVER_WORDS = {"around", "just", "only", "in", "sight", "anywhere", "here", "there", "nearby", "please", "is",
                   "are", "was", "were", "there's", "with", "at", "all", "else", "the", "background", "frame", "shot",
                   "scene", "visible", "present", "allowed", "of", "any"}
