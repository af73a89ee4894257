"""The prompt extender's plumbing, with tiny random-weight models saved to a folder and loaded
back through the same loader a real Qwen instruct model goes through. Their answers are
whatever random weights produce (never a made-up plan), so what is tested is that a bad answer,
a time-out or missing weights falls back to the rules planner, recorded; the schema check is
tested on its own with written JSON."""
from __future__ import annotations

import json

import pytest

from clipmill.planning import plan_shot
from clipmill.planning.extender import ExtenderConfig, PromptExtender, load_model
from clipmill.planning.model_plan import InvalidPlan, extract_json, plan_from_json

SENTENCES = ["a boy throws a ball to a dog", "两个女孩在海边传球", "prompt json actions classes person dog",
             "the camera pushes in", "system user assistant"]


def _tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(SENTENCES, trainers.WordLevelTrainer(special_tokens=["[UNK]", "[PAD]", "[EOS]"]))
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                      eos_token="[EOS]")
    wrapped.chat_template = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                             "{% if add_generation_prompt %}assistant:{% endif %}")
    return wrapped


@pytest.fixture(scope="module")
def causal_dir(tmp_path_factory):
    from transformers import GPT2Config, GPT2LMHeadModel

    folder = tmp_path_factory.mktemp("tiny-causal")
    tokenizer = _tokenizer()
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=2048, n_embd=16, n_layer=1, n_head=2,
                        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def seq2seq_dir(tmp_path_factory):
    from transformers import T5Config, T5ForConditionalGeneration

    folder = tmp_path_factory.mktemp("tiny-seq2seq")
    tokenizer = _tokenizer()
    config = T5Config(vocab_size=len(tokenizer), d_model=16, d_ff=32, d_kv=8, num_layers=1, num_heads=2,
                      decoder_start_token_id=tokenizer.pad_token_id, pad_token_id=tokenizer.pad_token_id,
                      eos_token_id=tokenizer.eos_token_id)
    T5ForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


TEXT = "A boy throws a ball to a dog in the park"


@pytest.mark.parametrize("kind", ["causal", "seq2seq"])
def test_a_saved_model_loads_back_and_answers(kind, causal_dir, seq2seq_dir):
    folder = causal_dir if kind == "causal" else seq2seq_dir
    config = ExtenderConfig(source=str(folder), kind=kind, max_new_tokens=6, device="cpu")
    tokenizer, model = load_model(config)
    assert model.training is False and load_model(config)[1] is model  # loaded once per process
    answer = PromptExtender(config).answer(TEXT)
    assert isinstance(answer, str)


@pytest.mark.parametrize("kind", ["causal", "seq2seq"])
def test_random_weights_answer_is_no_plan_so_the_rules_plan_is_used_and_recorded(kind, causal_dir, seq2seq_dir):
    folder = causal_dir if kind == "causal" else seq2seq_dir
    extender = PromptExtender(ExtenderConfig(source=str(folder), kind=kind, max_new_tokens=6, device="cpu"))
    plan = plan_shot(TEXT, segments=2, extender=extender)
    rules = plan_shot(TEXT, segments=2)
    assert plan.planner == "rules"
    assert plan.expectations == rules.expectations and plan.segment_prompts == rules.segment_prompts
    assert any("rules planner instead" in n and "not a valid shot plan" in n for n in plan.notes)


def test_missing_weights_fall_back_recorded(tmp_path):
    extender = PromptExtender(ExtenderConfig(source=str(tmp_path / "no-such-model"), device="cpu"))
    plan = plan_shot(TEXT, extender=extender)
    assert plan.planner == "rules"
    assert any("cannot load" in n for n in plan.notes)


def test_a_time_out_falls_back_recorded(causal_dir):
    extender = PromptExtender(ExtenderConfig(source=str(causal_dir), timeout_s=0, device="cpu"))
    plan = plan_shot(TEXT, extender=extender)
    assert plan.planner == "rules" and any("time-out" in n for n in plan.notes)


def test_off_by_default():
    plan = plan_shot(TEXT)
    assert plan.planner == "rules" and not any("extender" in n for n in plan.notes)
    assert ExtenderConfig.from_spec(None) is None
    assert ExtenderConfig.from_spec("/models/qwen").source == "/models/qwen"
    assert ExtenderConfig.from_spec({"source": "Qwen/Qwen2.5-3B-Instruct", "timeout_s": 30}).timeout_s == 30
    with pytest.raises(ValueError, match="unknown field"):
        ExtenderConfig.from_spec({"source": "x", "temperature": 1})


# --- the schema, on written answers -------------------------------------------------

VALID = {
    "prompt": "Two girls on a sunny beach pass a white volleyball back and forth, then high-five.",
    "subjects": ["two girls", "a volleyball"],
    "initial_state": "Two girls on the beach, one holding a volleyball",
    "actions": ["The girls pass the volleyball to each other", "They high-five"],
    "location": "a sunny beach",
    "expectations": {"classes": {"person": 2, "sports ball": 1}, "interaction": "handover",
                     "subjects": ["person", "person", "sports ball"]},
    "absent": ["dog"],
}


def test_a_valid_answer_becomes_the_plan_with_derived_segments():
    answer = "Here is the plan:\n```json\n" + json.dumps(VALID) + "\n```"
    plan = plan_from_json(answer, source_text="Two girls pass a volleyball, then high-five", segments=2)
    assert plan.planner == "model" and plan.expectations.classes == {"person": 2, "sports ball": 1}
    assert plan.expectations.subjects == ("person", "person", "sports ball")
    assert len(plan.segment_prompts) == 2 and "high-five" in plan.segment_prompts[1]
    assert plan.absent == ["dog"] and plan.negative_prompt.endswith("dog")


@pytest.mark.parametrize("change, message", [
    ({"expectations": {"classes": {"perfume": 1}}}, "not COCO"),
    ({"expectations": {"classes": {"person": 0}}}, "1..50"),
    ({"expectations": {"classes": {"person": 1}, "interaction": "dance", "subjects": ["person"]}}, "interaction"),
    ({"expectations": {"classes": {"person": 1}, "interaction": "contact", "subjects": ["dog"]}}, "not among"),
    ({"actions": []}, "actions"),
    ({"absent": ["person"]}, "both expected and absent"),
    ({"colour": "red"}, "colour"),
])
def test_an_answer_outside_the_schema_is_refused(change, message):
    with pytest.raises(InvalidPlan, match=message):
        plan_from_json(json.dumps({**VALID, **change}), source_text="x")


def test_no_json_is_refused():
    with pytest.raises(InvalidPlan, match="no JSON"):
        extract_json("I cannot help with that")
    assert extract_json('noise {"a": "}"} more') == {"a": "}"}
