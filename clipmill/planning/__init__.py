"""Prompt structuring: free text (English or Chinese) or a keyword becomes a shot plan.

A shot plan is what the generator is asked for (a prompt in parts: initial state, every
action in order, the text's own camera and look phrases, environment; one action prompt per
segment) and what QA will hold the clip to (`qa.types.Expectations`: COCO classes and
counts, the interaction; `ShotPlan.absent`: classes the text says are not there;
`ShotPlan.open_vocabulary`: subjects outside COCO, by name). The default planner is
rule-based on purpose: every expectation can be traced to words in the prompt, and a
subject the lexicon (`clipmill.planning.lexicon`) does not know never becomes an
expectation the detector cannot meet. A model-based prompt extender (`extender`, off by
default) can plan instead; it falls back to the rules on any failure.

    from clipmill.planning import expand_template, plan_shot

    plan = plan_shot(expand_template("wireless earbuds", "product-showcase"), segments=2)

Every expectation carries the planner's confidence (`confidence`): only those at or above
`confidence.ENFORCE_CONFIDENCE` are in the fields QA enforces; the others are kept in
`Expectations.unchecked` with why (`explain` words them for `clipmill plan`). A wrong enforced
rule costs a good clip, a missing one little, so an unsure count keeps its class out of QA.

Inside: `templates` (keyword templates), `plan` (`plan_shot`'s steps), `parsing` (subjects,
absence, clauses and their roles, event order, location, who does what to whom), `counting`,
`confidence`, `explain`, `states`,
`assembly` and `prompt_warnings` (from the parse to the plan's fields), `lexicon` (the word
lists), `model_plan` (the plan as JSON: schema and validation) and `extender` (the local
instruct model that can answer it).
"""
from clipmill.planning.language import Language, detect_language
from clipmill.planning.plan import plan_shot
from clipmill.planning.shot_plan import ShotPlan
from clipmill.planning.templates import (
    TEMPLATES,
    TEMPLATES_ENV,
    PromptTemplate,
    _load_templates,
    add_templates,
    expand_template,
    load_template_dir,
)

__all__ = [
    "TEMPLATES", "TEMPLATES_ENV", "Language", "PromptTemplate", "ShotPlan", "add_templates", "detect_language",
    "expand_template", "load_template_dir", "plan_shot",
]
