"""The failures issue 12 lists, each planned as a user would expect."""
from __future__ import annotations

from tests.planning import counts_read
from clipmill.planning import expand_template, plan_shot


def test_every_action_is_kept_in_order():
    plan = plan_shot("两个女孩在海边互相传递一个排球，然后击掌庆祝")
    assert len(plan.actions) == 2 and "传递" in plan.actions[0] and "击掌" in plan.actions[1]
    assert plan.expectations.interaction == "handover"
    assert counts_read(plan.expectations) == {"person": 2, "sports ball": 1}

    plan = plan_shot("模特拿起一瓶香水，对着镜头喷两下，然后微笑")
    assert [a[:2] for a in plan.actions] == ["模特", "模特", "模特"]
    assert "拿起" in plan.actions[0] and "喷" in plan.actions[1] and "微笑" in plan.actions[2]
    assert counts_read(plan.expectations) == {"person": 1, "bottle": 1} and "perfume" in plan.open_vocabulary

    plan = plan_shot("A barista pours latte art into a cup on the counter, then slides the cup to a customer")
    assert plan.actions == ["A barista pours latte art into a cup", "The barista slides the cup to a customer"]
    assert counts_read(plan.expectations) == {"person": 2, "cup": 1}
    assert plan.expectations.interaction == "handover"


def test_subjects_through_synonyms_hyponyms_and_compounds():
    plan = plan_shot("一辆白色SUV驶过山路")
    assert plan.expectations.classes == {"car": 1} and plan.location == "山路"
    assert not [w for w in plan.warnings if w.startswith(("vague", "no location"))]
    assert counts_read(plan_shot("A cyclist rides down a mountain trail").expectations) == {"person": 1, "bicycle": 1}
    assert counts_read(plan_shot("A skateboarder jumps over a bench").expectations) == \
        {"person": 1, "skateboard": 1, "bench": 1}
    assert counts_read(plan_shot("A couple clinks two glasses of wine").expectations) == {"person": 2, "wine glass": 2}
    assert plan_shot("一只柯基和两只狗狗在草地上玩").expectations.classes == {"dog": 3}


def test_negation_is_read_as_absence():
    plan = plan_shot("Two kids without a dog play chess")
    assert counts_read(plan.expectations) == {"person": 2} and plan.absent == ["dog"]
    assert "dog" not in plan.prompt and plan.negative_prompt.endswith("dog")
    plan = plan_shot("No people, just a red sports car parked on a wet street at night")
    assert plan.expectations.classes == {"car": 1} and plan.absent == ["person"]
    assert plan.prompt.startswith("Just a red sports car parked") and "people" not in plan.prompt
    assert "Natural light" not in plan.prompt  # it is night
    plan = plan_shot("空无一人的街道，只有一辆黑色轿车停在路边")
    assert plan.expectations.classes == {"car": 1} and plan.absent == ["person"]
    assert plan_shot("两个孩子在客厅下棋，不要出现狗").absent == ["dog"]


def test_a_barista_and_a_customer_are_two_people():
    assert plan_shot("A barista and a customer chat across the counter").expectations.at_least == {"person": 2}


def test_product_camera_and_light_reach_the_generator():
    plan = plan_shot("An espresso cup on a saucer, steam rising, slow camera push-in")
    assert plan.expectations.classes == {"cup": 1}
    assert "espresso cup on a saucer" in plan.prompt and "push-in" in plan.prompt
    assert not any(w.startswith("vague") for w in plan.warnings)

    text = expand_template("wireless earbuds", "product-showcase")
    plan = plan_shot(text)
    assert not any(w.startswith("vague") for w in plan.warnings)
    assert plan.open_vocabulary[0] == "earbuds"
    assert any("not checkable by the COCO detector: earbuds" in n for n in plan.notes)
    # grammatical, nothing twice, no clause contradicting the template's light
    assert "Setting: a clean, minimal studio with a seamless white backdrop." in plan.prompt
    assert plan.prompt.count("Setting:") == 1 and "Natural light" not in plan.prompt
    assert "Revealing" not in plan.prompt and "stands" not in plan.prompt


def test_no_invented_states_or_outcomes():
    plan = plan_shot("两个女孩在海边互相传递一个排球，然后击掌庆祝")
    assert "挨得很近" not in plan.initial_state and "贴在一起" not in plan.outcome
    plan = plan_shot("A man and a woman hug in the kitchen")
    assert "touching" not in plan.outcome and "close to each other" not in plan.initial_state


def test_the_plan_lists_the_new_fields():
    data = plan_shot("A bottle of perfume on a marble table, the camera slowly orbits around it").to_dict()
    assert {"absent", "open_vocabulary", "camera", "look", "planner", "notes"} <= set(data)
    assert data["planner"] == "rules" and data["camera"] == ["the camera slowly orbits around it"]
