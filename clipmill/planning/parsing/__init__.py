"""Prompt parsing for `clipmill.planning`: reads free text (English or Chinese) with the word
lists in `clipmill.planning.lexicon`.

It finds the subjects (`find_mentions`: noun phrases with their COCO class and stated count),
the clauses (`split_clauses`), the location (`find_location`) and, clause by clause, who does
what to whom (`ClauseReader`, whose rules and frame handlers are in `interaction_rules` and
`frames`; then `resolve_interaction` picks the interaction QA checks). It returns plain records
(`Mention`, `Clause`, `Event`) holding character offsets into the text; wording the plan from
them is `clipmill.planning`'s job.
"""
from clipmill.planning.parsing.clause_reader import ClauseReader
from clipmill.planning.lexicon.shot_words import SETTING_LABELS
from clipmill.planning.parsing.clause_roles import clause_role, opens_with, starts_with_verb
from clipmill.planning.parsing.clauses import has_verb, split_clauses
from clipmill.planning.parsing.interaction import resolve_interaction
from clipmill.planning.parsing.interaction_rules import GROUP_MEMBER_RE, PRONOUN_RE
from clipmill.planning.parsing.location import find_location
from clipmill.planning.parsing.negation import Absence, find_absence
from clipmill.planning.parsing.records import Clause, Event, Mention
from clipmill.planning.parsing.subjects import find_mentions

__all__ = [
    "GROUP_MEMBER_RE", "PRONOUN_RE", "SETTING_LABELS", "Absence", "Clause", "ClauseReader", "Event", "Mention",
    "clause_role", "find_absence", "find_location", "find_mentions", "has_verb", "opens_with",
    "resolve_interaction", "split_clauses", "starts_with_verb",
]
