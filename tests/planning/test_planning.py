from __future__ import annotations

from dataclasses import replace

import json

import pytest

from clipmill.planning import TEMPLATES, ShotPlan, expand_template, plan_shot
from clipmill.qa.types import Expectations
from tests.planning import counts_read

# (prompt, classes, interaction, subjects)
ENGLISH = [
    ("A boy throws a yellow frisbee to a brown dog in a sunny park",
     {"person": 1, "frisbee": 1, "dog": 1}, "handover", ("person", "dog", "frisbee")),
    ("A man and a woman hug in the kitchen", {"person": 2}, "contact", ("person", "person")),
    ("Two dogs play with each other on the beach", {"dog": 2}, "contact", ("dog", "dog")),
    ("A girl runs to her mother and hugs her", {"person": 2}, "contact", ("person", "person")),
    ("A dog runs toward a man in the park", {"dog": 1, "person": 1}, "approach", ("dog", "person")),
    ("A woman gets out of a taxi and walks away", {"person": 1, "car": 1}, "leave", ("person", "car")),
    ("A cat enters the room", {"cat": 1}, "enter", ("cat",)),
    ("3 cats sleep on a couch", {"cat": 3, "couch": 1}, None, ()),
    ("A boy throws a ball and the dog catches it",
     {"person": 1, "sports ball": 1, "dog": 1}, "handover", ("person", "dog", "sports ball")),
    ("A woman takes a book from a boy in the library",
     {"person": 2, "book": 1}, "handover", ("person", "person", "book")),
    ("A teddy bear sits next to two kittens", {"teddy bear": 1, "cat": 2}, None, ()),
    ("A man rides a horse across a field", {"person": 1, "horse": 1}, "contact", ("person", "horse")),
    ("A dog chases a puppy; the puppy runs off", {"dog": 2}, "approach", ("dog", "dog")),
    # MCN / e-commerce shots
    ("A woman holds a smartphone and smiles at the camera in a bright studio",
     {"person": 1, "cell phone": 1}, "contact", ("person", "cell phone")),
    ("A chef slices a pizza on a wooden table in a restaurant kitchen",  # the table he works at: setting furniture
     {"person": 1, "pizza": 1}, None, ()),
    ("A man hands a laptop to a woman in the office",
     {"person": 2, "laptop": 1}, "handover", ("person", "person", "laptop")),
    ("A boy kicks a football to his father in the backyard",
     {"person": 2, "sports ball": 1}, "handover", ("person", "person", "sports ball")),
    ("A delivery man walks into the shop carrying a suitcase", {"person": 1, "suitcase": 1}, "enter", ("person",)),
    ("A little girl hugs a teddy bear on the bed",
     {"person": 1, "teddy bear": 1, "bed": 1}, "contact", ("person", "teddy bear")),
    ("Three people dance together on the stage", {"person": 3}, "contact", ("person", "person")),
    ("A horse gallops across a meadow at sunset", {"horse": 1}, None, ()),
]

CHINESE = [
    # the jar is no COCO class: QA cannot see it change hands, so the handover is unchecked
    ("两只小熊在森林里分享蜂蜜，一只递罐子，另一只接过", {"bear": 2}, None, ()),
    ("一个男孩把黄色的飞盘扔给棕色的小狗",
     {"person": 1, "frisbee": 1, "dog": 1}, "handover", ("person", "dog", "frisbee")),
    ("三个人在公园里握手", {"person": 3}, "contact", ("person", "person")),
    ("小女孩跑向一只小猫，然后抱住它", {"person": 1, "cat": 1}, "contact", ("person", "cat")),
    ("一个男人走进房间", {"person": 1}, "enter", ("person",)),
    ("一位女士离开了汽车", {"person": 1, "car": 1}, "leave", ("person", "car")),
    ("两个女孩在街上走向一辆公交车", {"person": 2, "bus": 1}, "approach", ("person", "bus")),
    ("一只泰迪熊坐在床上", {"teddy bear": 1, "bed": 1}, None, ()),
    ("女孩和小狗一起玩", {"person": 1, "dog": 1}, "contact", ("person", "dog")),
    # a cup of coffee is a cup the detector sees
    ("一位妈妈把一杯咖啡递给爸爸", {"person": 2, "cup": 1}, "handover", ("person", "person", "cup")),
    ("五只羊在草地上吃草", {"sheep": 5}, None, ()),
    # MCN / e-commerce shots
    ("一位女主播在直播间拿着手机向镜头展示", {"person": 1, "cell phone": 1}, "contact", ("person", "cell phone")),
    ("爸爸把一个苹果递给儿子", {"person": 2, "apple": 1}, "handover", ("person", "person", "apple")),
    ("男孩骑着自行车在公园里转圈", {"person": 1, "bicycle": 1}, "contact", ("person", "bicycle")),
    ("一位厨师在厨房里切西兰花", {"person": 1, "broccoli": 1}, None, ()),
    ("小狗跑向主人，然后跳进他的怀里", {"dog": 1, "person": 1}, "approach", ("dog", "person")),
    ("一个女人走进咖啡馆，坐在椅子上", {"person": 1}, "enter", ("person",)),  # the chair: setting
    ("三只鸭子在湖面上游泳", {"bird": 3}, None, ()),
    ("一位模特拿着手提包走在街上", {"person": 1, "handbag": 1}, "contact", ("person", "handbag")),
    ("两个朋友在海边拥抱", {"person": 2}, "contact", ("person", "person")),
    ("一只猫跳上餐桌，打翻了杯子", {"cat": 1, "cup": 1}, None, ()),  # the table: where it happens, as in English ("jumps onto the table")
]


@pytest.mark.parametrize("text, classes, interaction, subjects", ENGLISH, ids=[c[0][:40] for c in ENGLISH])
def test_english_expectations(text, classes, interaction, subjects):
    plan = plan_shot(text)
    assert plan.language == "en"
    setting = {u.subject for u in plan.expectations.unchecked if u.why.startswith("setting furniture")}
    assert setting <= {"dining table"}
    rest = tuple(u for u in plan.expectations.unchecked if u.subject not in setting)
    assert replace(plan.expectations, classes=counts_read(plan.expectations), at_least={}, unchecked=(),
                   ) == Expectations(classes=classes, interaction=interaction, subjects=subjects)
    assert not [u for u in rest if not u.value.startswith("exactly")]  # only the exact counts floors stand in for


def coco_expectations(plan) -> Expectations:
    """The plan's COCO expectations alone (its names outside COCO are tested on their own)."""
    return Expectations(classes=counts_read(plan.expectations), interaction=plan.expectations.interaction,
                        subjects=plan.expectations.subjects)


@pytest.mark.parametrize("text, classes, interaction, subjects", CHINESE, ids=[c[0][:12] for c in CHINESE])
def test_chinese_expectations(text, classes, interaction, subjects):
    plan = plan_shot(text)
    assert plan.language == "zh"
    assert coco_expectations(plan) == Expectations(classes=classes, interaction=interaction, subjects=subjects)


@pytest.mark.parametrize("text, location", [
    # A person after "to" is not part of the place that follows.
    ("A man hands a laptop to a woman in the office", "the office"),
    ("A boy kicks a football to his father in the backyard", "the backyard"),
    # Two place words make one place.
    ("A chef slices a pizza on a wooden table in a restaurant kitchen", "a restaurant kitchen"),
    # A place word that ends like a locative suffix keeps it.
    ("两个朋友在海边拥抱", "海边"),
    ("一位模特拿着手提包走在街上", "街上"),
    ("一位厨师在厨房里切西兰花", "厨房"),
])
def test_location(text, location):
    assert plan_shot(text).location == location


def test_english_and_chinese_cases_are_at_least_twenty_each():
    assert len(ENGLISH) >= 20 and len(CHINESE) >= 20


def test_frisbee_plan_is_structured_and_faithful():
    plan = plan_shot("A boy throws a yellow frisbee to a brown dog in a sunny park")
    assert plan.subjects == ["A boy", "a yellow frisbee", "a brown dog"]
    assert plan.location == "a sunny park"
    assert plan.actions == ["A boy throws a yellow frisbee to a brown dog"]
    assert plan.initial_state == "A boy holding a yellow frisbee, a brown dog nearby"
    assert plan.outcome == "The brown dog has the yellow frisbee"
    # three parts in order: initial state, action, environment
    prompt = plan.prompt
    assert prompt.index(plan.initial_state) < prompt.index(plan.actions[0]) < prompt.index("a sunny park")


def test_bear_plan_names_each_bear_in_the_actions():
    plan = plan_shot("两只小熊在森林里分享蜂蜜，一只递罐子，另一只接过")
    assert plan.location == "森林"
    assert plan.actions == ["两只小熊分享蜂蜜", "一只小熊递罐子", "另一只小熊接过"]
    assert plan.initial_state == "两只小熊，其中一只拿着罐子"
    assert plan.outcome == "另一只小熊拿到了罐子"
    assert "森林" in plan.prompt


def test_subject_carried_into_verb_first_clause():
    plan = plan_shot("A man walks into a cafe and sits on a chair")
    assert plan.actions == ["A man walks into a cafe", "The man sits on a chair"]


def test_unknown_subject_is_not_an_expectation_and_is_flagged():
    plan = plan_shot("A robot hands a cup to a girl in a kitchen")
    assert plan.expectations == Expectations(classes={"cup": 1, "person": 1}, open_vocabulary=("robot",))
    assert "A robot" in plan.subjects
    assert any("'A robot'" in w and "detector" in w for w in plan.warnings)


def test_object_noun_is_not_mistaken_for_the_location():
    plan = plan_shot("一只猫在沙发上睡觉")
    assert plan.location == ""
    assert plan.actions == ["一只猫在沙发上睡觉"]


def test_plural_without_number_is_unchecked_and_asks_for_the_count():
    plan = plan_shot("Dogs run on the beach")
    assert plan.expectations.classes == {}  # QA would hold "dogs" to exactly two
    count = next(u for u in plan.expectations.unchecked if u.kind == "count")
    assert (count.subject, count.value) == ("dog", "2") and "not stated" in count.why
    assert count.confidence < 0.7
    assert any("Dogs" in w and "count" in w for w in plan.warnings)


@pytest.mark.parametrize("text", ["让他动起来", "some animals doing something funny"])
def test_vague_prompt_warns_with_a_concrete_example(text):
    plan = plan_shot(text)
    vague = [w for w in plan.warnings if w.startswith("vague prompt")]
    assert vague, plan.warnings
    assert any("e.g." in w for w in vague)
    assert plan.expectations == Expectations()


def test_vague_pronoun_subject_is_named_in_the_warning():
    plan = plan_shot("让他动起来")
    assert any("no recognisable subject" in w and "他" in w for w in plan.warnings)


def test_generic_animals_get_a_specific_suggestion():
    plan = plan_shot("some animals doing something funny")
    assert any("'some animals' is not specific" in w and "puppies" in w for w in plan.warnings)


def test_clear_prompt_has_no_warnings():
    assert plan_shot("A boy throws a yellow frisbee to a brown dog in a sunny park").warnings == []
    assert plan_shot("两只小熊在森林里分享蜂蜜，一只递罐子，另一只接过").warnings == []


@pytest.mark.parametrize("segments", [1, 2, 3, 5])
def test_segment_count_is_exact(segments):
    plan = plan_shot("A girl runs to her mother and hugs her in the garden", segments=segments)
    assert len(plan.segment_prompts) == segments


def test_single_segment_is_the_full_prompt():
    plan = plan_shot("A girl runs to her mother and hugs her in the garden")
    assert plan.segment_prompts == [plan.prompt]


def test_each_segment_focuses_on_its_action_and_continues():
    plan = plan_shot("A girl runs to her mother and hugs her in the garden", segments=2)
    first, second = plan.segment_prompts
    assert "runs to her mother" in first and "hugs" not in first
    assert "hugs her" in second and "runs to" not in second
    assert second.startswith("Continuing from the previous shot, with the same girl and her mother")
    assert "the garden" in first and "the garden" in second


def test_chinese_segments_follow_the_action_sequence():
    plan = plan_shot("两只小熊在森林里分享蜂蜜，一只递罐子，另一只接过", segments=3)
    assert [p.count(a) for p, a in zip(plan.segment_prompts, plan.actions)] == [1, 1, 1]
    assert plan.segment_prompts[1].startswith("接上一镜头")


def test_more_segments_than_actions_end_on_the_outcome_and_warn():
    plan = plan_shot("A boy throws a yellow frisbee to a brown dog in a sunny park", segments=2)
    assert "the brown dog has the yellow frisbee" in plan.segment_prompts[1]
    assert any("2 segments but 1 action" in w for w in plan.warnings)


def test_fewer_segments_than_actions_group_them():
    plan = plan_shot("A cat jumps, then it rolls over, then it sleeps, then it wakes up on the sofa", segments=2)
    assert len(plan.actions) == 4 and len(plan.segment_prompts) == 2
    assert "then" in plan.segment_prompts[0] and "then" in plan.segment_prompts[1]


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_refused(text):
    with pytest.raises(ValueError, match="empty"):
        plan_shot(text)


def test_bad_segment_count_is_refused():
    with pytest.raises(ValueError, match="segments"):
        plan_shot("A dog runs", segments=0)


def test_negative_prompt_default_follows_language_and_can_be_overridden():
    assert "worst quality" in plan_shot("A dog runs in a park").negative_prompt
    assert "最差质量" in plan_shot("小狗在公园里奔跑").negative_prompt
    assert plan_shot("A dog runs", negative_prompt="blurry").negative_prompt == "blurry"


def test_to_dict_is_json_safe_and_round_trips_expectations():
    plan = plan_shot("两只小熊在森林里分享蜂蜜，一只递罐子，另一只接过", segments=2)
    data = json.loads(json.dumps(plan.to_dict(), ensure_ascii=False))
    assert isinstance(plan, ShotPlan)
    assert Expectations.from_dict(data["expectations"]) == plan.expectations
    assert data["segment_prompts"] == plan.segment_prompts


def test_source_text_is_kept_verbatim():
    text = "  A dog   runs in a park  "
    assert plan_shot(text).source_text == text


# --- templates ---------------------------------------------------------------------


def test_builtin_templates_exist():
    assert {"trending-short", "product-showcase"} <= set(TEMPLATES)


def test_product_showcase_places_the_keyword_and_defaults():
    text = expand_template("wireless earbuds", "product-showcase")
    assert text.startswith("wireless earbuds on a white display pedestal")
    assert text.count("wireless earbuds") == 1 and "{" not in text


def test_trending_short_variables_override_defaults():
    text = expand_template("matcha latte", "trending-short", {"subject": "A barista", "setting": "a cosy cafe"})
    assert text.startswith("A barista presents matcha latte")
    assert "Setting: a cosy cafe." in text and "studio" not in text


def test_chinese_keyword_gets_the_chinese_template():
    text = expand_template("蓝牙耳机", "product-showcase")
    assert text.startswith("蓝牙耳机放在白色展台上")


def test_expanded_template_plans_cleanly():
    plan = plan_shot(expand_template("matcha latte", "trending-short"))
    assert counts_read(plan.expectations) == {"person": 1}
    assert plan.location == "a bright, modern studio"


def test_unknown_template_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown template 'viral'.*product-showcase.*trending-short"):
        expand_template("shoes", "viral")


def test_unknown_variable_is_refused():
    with pytest.raises(ValueError, match="no variable.*colour"):
        expand_template("shoes", "product-showcase", {"colour": "red"})


def test_templates_env_folder_adds_and_overrides(tmp_path, monkeypatch):
    from clipmill import planning

    (tmp_path / "shop.yaml").write_text(
        "name: product-showcase\ntext:\n  en: '{keyword} spins slowly on a marble plinth.'\n", encoding="utf-8")
    monkeypatch.setenv("CLIPMILL_TEMPLATES", str(tmp_path))
    loaded = planning._load_templates()
    assert loaded["product-showcase"].text["en"] == "{keyword} spins slowly on a marble plinth."
    assert "trending-short" in loaded
    monkeypatch.setenv("CLIPMILL_TEMPLATES", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="template folder not found"):
        planning._load_templates()
