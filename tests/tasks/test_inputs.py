"""The shot-plan task reads the spec's prompt extender; without usable weights the rules plan
is used and its notes say why (no batch stops for a missing language model)."""
from clipmill.spec import parse_spec
from clipmill.tasks.inputs import structure_prompt


def test_structure_prompt_falls_back_to_the_rules_plan_when_the_extender_cannot_load(tmp_path):
    spec = parse_spec({"name": "b", "models": {"prompt_extender": str(tmp_path / "no-such-model")},
                       "jobs": [{"id": "a", "prompt": "A boy throws a yellow frisbee to a brown dog in a park"}]})
    plan = structure_prompt.fn(spec.jobs[0], 1, spec.models)
    rules = structure_prompt.fn(spec.jobs[0], 1, None)
    assert plan.expectations == rules.expectations and plan.segment_prompts == rules.segment_prompts
    assert any("no-such-model" in note for note in plan.notes)
