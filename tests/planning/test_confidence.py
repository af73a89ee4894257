"""Issue 22 item 4: every expectation carries its confidence, only sure ones are enforced, the
others are kept as unchecked with why; and the five phrasing families, each shown on prompts of
its own (not the benchmark's)."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from clipmill.planning import plan_shot
from clipmill.planning.confidence import ENFORCE_CONFIDENCE
from clipmill.planning.explain import expectation_items
from clipmill.qa.types import Expectations, UncheckedExpectation
from tests.planning import counts_read


def unchecked(plan, kind: str) -> dict[str, UncheckedExpectation]:
    return {u.subject: u for u in plan.expectations.unchecked if u.kind == kind}


# -- the interface -------------------------------------------------------------------------------

def test_expectations_round_trip_and_old_dicts():
    exp = Expectations(classes={"person": 2}, forbidden=("dog",),
                       unchecked=(UncheckedExpectation("count", "bird", "2", 0.3, "count not stated"),),
                       confidence={"presence:person": 0.9, "count:person": 0.8, "absent:dog": 0.9})
    data = json.loads(json.dumps(exp.to_dict()))
    assert data["unchecked"] == [{"kind": "count", "subject": "bird", "value": "2", "confidence": 0.3,
                                  "why": "count not stated"}]
    assert data["confidence"]["count:person"] == 0.8
    back = Expectations.from_dict(data)
    assert back == exp and back.confidence == exp.confidence
    old = Expectations.from_dict({"classes": {"dog": 1}, "interaction": None, "subjects": [], "forbidden": [],
                                  "open_vocabulary": []})  # as stored before this change
    assert old.unchecked == () and old.confidence == {} and old.classes == {"dog": 1}
    floors = Expectations(classes={"cup": 1}, at_least={"person": 2})
    assert Expectations.from_dict(json.loads(json.dumps(floors.to_dict()))) == floors
    stored_with_present = Expectations.from_dict({"classes": {}, "present": ["person"]})  # the field before at_least
    assert stored_with_present.at_least == {"person": 1}


@pytest.mark.parametrize("text, floor", [
    ("A chef tosses noodles in a wok over a roaring flame", 1),  # a trade that works among others
    ("A waiter pours water for a couple at a window table", 3),
    ("理发师给一位老爷爷剪头发", 2),
    ("一个女孩在公交站低头看手机", 1),  # a public place
    ("Two friends split a pizza in a busy food court", 2),
    ("A courier weaves through rush hour traffic on a scooter", 1),
    ("等地铁的时候，两个学生在聊天", 2),
])
def test_people_where_others_are_normally_in_view_are_counted_at_least(text, floor):
    exp = plan_shot(text).expectations
    assert "person" not in exp.classes and exp.at_least.get("person") == floor
    assert exp.confidence["count:person"] >= ENFORCE_CONFIDENCE
    assert unchecked(plan_shot(text), "count")["person"].value == f"exactly {floor}"  # and why, for `plan`


@pytest.mark.parametrize("text, floor", [
    ("Two men play chess on a park bench", 2),  # no home said: others may be in view
    ("A hiker with a red backpack stands on the summit at dawn", 1),
    ("A girl rides a white horse along the beach", 1),
    ("A courier drops a parcel at a front door and jogs back down the stairs", 1),
    ("Home on leave, a soldier surprises his sister at her school assembly", 2),  # "home" is no place here
    ("她扫了一辆共享单车骑去上班", 1),  # a person read from a pronoun is no exception
])
def test_people_named_anywhere_but_a_home_are_the_fewest_in_view(text, floor):
    exp = plan_shot(text).expectations
    assert "person" not in exp.classes and exp.at_least.get("person") == floor


@pytest.mark.parametrize("text, people", [
    ("Two men play chess in the living room", 2),  # a home: nobody else is implied
    ("A lone barista wipes the counter in an empty cafe", 1),  # said to be alone
    ("A woman takes a photo of her latte at her kitchen table", 1),
    ("一家三口坐在沙发上拆快递", 3),
    ("A man's hand picks up a cup", 1),  # a close-up of a hand: one person, nobody else in frame
])
def test_people_at_home_in_close_up_or_said_to_be_alone_keep_an_exact_count(text, people):
    exp = plan_shot(text).expectations
    assert exp.classes.get("person") == people and "person" not in exp.at_least


def test_cars_in_traffic_are_at_least_the_number_named():
    assert plan_shot("Two taxis crawl through heavy traffic").expectations.at_least.get("car") == 2


@pytest.mark.parametrize("text, missing", [
    ("A teddy bear sits on a child's bed", "person"),  # whose bed: no child in view
    ("A cat sleeps next to her owner's laptop", "person"),
    ("A truck driver climbs into the cab of a semi truck", "car"),  # the truck's cab, no taxi
])
def test_an_owner_or_a_part_named_to_say_whose_is_no_subject(text, missing):
    exp = plan_shot(text).expectations
    assert missing not in exp.classes and missing not in exp.at_least


@pytest.mark.parametrize("text, person", [
    ("A man's hand picks up a cup", 1), ("A woman's hands knead dough", 1), ("A veterinarian listens to a puppy's heartbeat", 1),
])
def test_an_owner_whose_body_is_named_stays(text, person):
    assert counts_read(plan_shot(text).expectations).get("person") == person


def test_chinese_owner_before_a_person_is_one_person():
    assert plan_shot("快递员把一个大纸箱交给前台的小姐姐").expectations.at_least.get("person") == 2


@pytest.mark.parametrize("text", ["公园长椅上没人坐，落满了树叶", "A bench nobody sits on, covered in leaves"])
def test_nobody_using_a_thing_is_no_absence_of_people(text):
    assert "person" not in plan_shot(text).expectations.forbidden


def test_nobody_in_an_empty_place_is_still_an_absence():
    assert plan_shot("Nobody sits on the benches of the empty stadium").expectations.forbidden == ("person",)


def test_tableware_as_a_set_and_a_van_are_not_counted_or_called_a_car():
    assert "bowl" not in plan_shot("服务员开始收拾桌上的碗筷").expectations.classes
    assert "car" not in plan_shot("A delivery driver unloads boxes from a white van").expectations.classes


@pytest.mark.parametrize("text", [
    "A family of five bakes cookies while their cat watches", "Customers wait in line at a food truck",
    "The dog does not chase the cat", "几乎没有人的海滩上，一只狗在奔跑", "一对老夫妻在河边散步",
])
def test_enforced_rules_are_at_or_above_the_threshold_and_unchecked_ones_say_why(text):
    exp = plan_shot(text).expectations
    enforced = [f"presence:{c}" for c in exp.classes] + [f"count:{c}" for c in exp.classes]
    enforced += [f"presence:{c}" for c in exp.at_least]
    enforced += [f"count:{c}" for c, fewest in exp.at_least.items() if fewest > 1 or f"count:{c}" in exp.confidence]
    enforced += [f"absent:{c}" for c in exp.forbidden]
    enforced += [f"interaction:{exp.interaction}"] if exp.interaction else []
    assert set(exp.confidence) == set(enforced)
    assert all(value >= ENFORCE_CONFIDENCE for value in exp.confidence.values())
    for item in exp.unchecked:
        assert item.kind in ("presence", "count", "absent", "interaction", "order") and item.why
        if item.kind == "count" and item.value.startswith("exactly"):  # what a floor stands in for
            assert exp.at_least.get(item.subject) == int(item.value.split()[1])
        elif item.kind == "count":  # a count is enforced only with a sure presence, and then the class is
            pair = [u.confidence for u in exp.unchecked if u.subject == item.subject and u.kind in ("presence", "count")]
            assert min(pair) < ENFORCE_CONFIDENCE
            assert item.subject not in exp.classes
        elif item.kind == "presence":
            assert item.confidence < ENFORCE_CONFIDENCE and item.subject not in exp.at_least
        else:
            assert item.confidence < ENFORCE_CONFIDENCE


def test_an_unstated_count_is_checked_as_presence_in_any_number():
    plan = plan_shot("Customers wait in line at a food truck")
    assert "person" not in plan.expectations.classes  # QA would hold them to exactly two
    assert plan.expectations.at_least == {"person": 1}  # but they are surely there
    assert unchecked(plan, "count")["person"].confidence < ENFORCE_CONFIDENCE
    assert "presence" not in {u.kind for u in plan.expectations.unchecked if u.subject == "person"}
    assert plan.expectations.classes == {"truck": 1}


@pytest.mark.parametrize("text", ["Two people play one-on-one basketball in a gym", "两个人在体育馆里一对一打篮球",
                                  "Kids practise football on the pitch", "孩子们在沙滩上踢足球"])
def test_a_ball_game_named_is_not_a_ball_enforced(text):
    exp = plan_shot(text).expectations
    assert "sports ball" not in exp.classes and "sports ball" not in exp.at_least
    assert "names the game" in unchecked(plan_shot(text), "presence")["sports ball"].why


@pytest.mark.parametrize("text", ["A boy holds a basketball in the park", "一个男孩抱着一个篮球"])
def test_a_ball_held_is_still_a_ball(text):
    assert plan_shot(text).expectations.classes.get("sports ball") == 1


def test_people_in_a_crowded_place_are_not_counted():
    plan = plan_shot("A street vendor grills skewers at a crowded night market")
    assert "person" not in plan.expectations.classes
    assert "crowded" in unchecked(plan, "count")["person"].why


def test_large_counts_are_not_enforced():
    plan = plan_shot("Twelve dancers perform on a stage")
    assert plan.expectations.classes == {} and unchecked(plan, "count")["person"].value == "12"


# -- numbers of people in words -------------------------------------------------------------------

@pytest.mark.parametrize("text, people", [
    ("A trio of young singers performs on a porch", 3),
    ("Twin brothers race each other across a lawn", 2),
    ("A family of three rides bikes along a canal", 3),
    ("Two couples dance in a ballroom", 4),
    ("A duo of street dancers performs on the sidewalk", 2),
    ("小两口在新家里挂窗帘", 2),
    ("姐妹俩在公园拍照", 2),
    ("四兄妹在院子里打雪仗", 4),
    ("双胞胎姐妹在镜子前梳头", 2),
    ("一家五口在草地上野餐", 5),
])
def test_words_that_name_a_number_of_people(text, people):
    plan = plan_shot(text)
    assert counts_read(plan.expectations).get("person") == people
    assert plan.expectations.confidence["count:person"] >= ENFORCE_CONFIDENCE


@pytest.mark.parametrize("text, people", [
    # a group, then who is in it, set off by commas, a colon or brackets: counted once
    ("Four friends, three girls and a boy, sit on a dock at sunset", 4),
    ("Two students, a boy and a girl, read in a library", 2),
    ("Three dancers (two women and a man) rehearse in a studio", 3),
    ("Five hikers: three men and two women.", 5),
    ("两个孩子，一个男孩和一个女孩，在沙滩上堆沙堡", 2),
    # a list of people, not a group's detail: everyone counts
    ("Two men, a woman and a child walk along a beach", 4),
    ("Two men, a woman and a child.", 4),
    ("Three workers, a manager and a client meet in an office", 5),
    # a plural verb that is also a place word, after people ("a fruit stand" is a place)
    ("A boy and a girl stand at a bus stop", 2),
    ("A man and a woman stop at a crosswalk", 2),
])
def test_a_group_and_who_is_in_it_and_people_who_stand(text, people):
    assert counts_read(plan_shot(text).expectations).get("person") == people


@pytest.mark.parametrize("text", ["灰色桌面上放着两个杯子", "小狗跳上椅子", "A cat leaps onto the table"])
def test_furniture_something_stands_or_lands_on_is_the_setting_in_both_languages(text):
    plan = plan_shot(text)
    furniture = {"dining table", "chair"} & set(plan.expectations.classes) - set(plan.expectations.at_least)
    assert not any(plan.expectations.confidence[f"presence:{f}"] >= ENFORCE_CONFIDENCE for f in furniture)


# -- Chinese "nobody" forms -----------------------------------------------------------------------

@pytest.mark.parametrize("text, present", [
    ("凌晨的街道不见人影，一辆洒水车缓缓驶过", {"truck": 1}),
    ("咖啡馆里一个客人也没有，桌上放着一杯拿铁", {"cup": 1}),
    ("雪后的公园行人全无，长椅上落满了雪", {}),
    ("午夜的便利店里没有一个顾客", {}),
    ("一个人也看不见的操场上，秋千在风中摇晃", {}),
])
def test_chinese_nobody_forms(text, present):
    plan = plan_shot(text)
    assert plan.expectations.forbidden == ("person",) and plan.expectations.classes == present


def test_an_empty_place_is_nobody_with_less_confidence_and_almost_nobody_is_unchecked():
    plan = plan_shot("空荡荡的走廊尽头有一把椅子")
    assert plan.expectations.forbidden == ("person",)
    assert plan.expectations.confidence["absent:person"] < plan_shot("街上空无一人").expectations.confidence[
        "absent:person"]
    hedged = plan_shot("几乎没有人的海滩上，一只狗在奔跑")
    assert hedged.expectations.forbidden == () and "absent" in {u.kind for u in hedged.expectations.unchecked}


# -- a negated action is no missing object --------------------------------------------------------

@pytest.mark.parametrize("text", [
    "A toddler sits next to a birthday cake but does not touch it",
    "A man reads on the train without looking at his phone",
    "小男孩站在蛋糕前，没有吹蜡烛",
    "女孩没有看手机，一直盯着窗外",
])
def test_a_negated_action_forbids_nothing(text):
    plan = plan_shot(text)
    assert plan.expectations.forbidden == () and plan.absent == []


def test_the_object_of_a_negated_action_is_unchecked_and_so_is_its_interaction():
    plan = plan_shot("The dog does not chase the cat")
    assert plan.expectations.classes == {"dog": 1} and plan.expectations.interaction is None
    assert unchecked(plan, "presence")["cat"].confidence < ENFORCE_CONFIDENCE
    assert [u.value for u in plan.expectations.unchecked if u.kind == "interaction"] == ["approach"]
    kept = plan_shot("女孩没有看手机，一直盯着窗外")
    assert "没有看手机" in kept.prompt  # not cut from the prompt as if it said "no phone"


# -- before / after: the order of events ----------------------------------------------------------

@pytest.mark.parametrize("text, order", [
    ("Before leaving the house, a girl ties her shoelaces", ["ties", "leaving"]),
    ("A runner drinks some water after he crosses the bridge", ["crosses", "drinks"]),
    ("The cat yawns, after waking up on the sofa", ["waking", "yawns"]),
    ("After the chef plates the steak, he wipes the rim", ["plates", "wipes"]),
    ("切蛋糕之前，她先许了一个愿", ["许", "切蛋糕"]),
    ("爸爸出门以前，先亲了亲女儿", ["亲", "出门"]),
    ("睡觉前，小男孩把书放回书架", ["放回", "睡觉"]),
    ("洗完澡之后，小狗在毛巾上打滚", ["洗完澡", "打滚"]),
])
def test_before_and_after_clauses_follow_the_events(text, order):
    actions = plan_shot(text).actions
    positions = [next(i for i, a in enumerate(actions) if word.lower() in a.lower()) for word in order]
    assert positions == sorted(positions), actions


def test_a_place_before_is_not_a_time():
    assert plan_shot("在镜子前，女孩涂上口红").actions[0].startswith("在镜子前") or \
        plan_shot("在镜子前，女孩涂上口红").actions == ["女孩涂上口红"]


# -- people named by role or trade ----------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "A plumber fixes a leaking pipe under the kitchen sink", "A lifeguard scans the waves from her tower",
    "A carpenter sands a wooden chair", "交警在路口指挥交通", "保洁阿姨在大厅拖地", "面点师在案板上揉面",
])
def test_roles_and_trades_are_people(text):
    assert counts_read(plan_shot(text).expectations).get("person") == 1


# -- clipmill plan ----------------------------------------------------------------------------------

def test_plan_command_shows_enforced_and_unchecked_apart():
    from clipmill.cli.main import app

    runner = CliRunner()
    result = runner.invoke(app, ["plan", "A courier and three customers chat outside a busy mall"])
    assert result.exit_code == 0, result.output
    assert "unchecked  count" in result.output and "mall" in result.output
    result = runner.invoke(app, ["plan", "一家三口在客厅里拆快递", "--json"])
    data = json.loads(result.output)
    assert data["expectation_items"] == expectation_items(plan_shot("一家三口在客厅里拆快递").expectations)
    enforced = {(i["kind"], i["subject"]): i for i in data["expectation_items"]["enforced"]}
    assert enforced[("count", "person")]["value"] == "3" and enforced[("count", "person")]["confidence"] >= 0.7
    assert data["expectations"]["unchecked"] == [] and "count:person" in data["expectations"]["confidence"]


# -- accessories named after what they are for (precision) ---------------------------------------

@pytest.mark.parametrize("text, classes", [
    ("A cat tree stands next to the window", {}),
    ("A wine bottle opener pulls out a cork", {}),
    ("狗窝放在客厅阳光充足的角落", {}),
    ("汽车座椅套的缝线特写", {}),
    ("一个印着小熊图案的杯子", {"cup": 1}),
    ("小男孩站在蛋糕前", {"person": 1, "cake": 1}),  # 站 after a person is a verb
    ("一辆公交车驶出车站", {"bus": 1}),
])
def test_a_noun_that_only_says_what_an_accessory_is_for_is_not_expected(text, classes):
    assert counts_read(plan_shot(text).expectations) == classes


def test_a_prompt_extenders_expectations_are_enforced_only_where_the_rules_agree():
    from clipmill.planning.confidence import reconcile

    rules = plan_shot("Two girls pass a volleyball on the beach, then high-five").expectations
    model = Expectations(classes={"person": 2, "sports ball": 1, "dog": 1}, interaction="handover",
                         subjects=("person", "person", "sports ball"), forbidden=("car",))
    got = reconcile(model, rules)
    assert got.classes == {k: v for k, v in model.classes.items() if rules.classes.get(k) == v}
    assert "dog" not in got.classes and got.forbidden == ()
    assert {(u.kind, u.subject) for u in got.unchecked} >= {("presence", "dog"), ("count", "dog"), ("absent", "car")}
    assert all(got.confidence[f"presence:{c}"] >= ENFORCE_CONFIDENCE for c in got.classes)


def test_a_before_clause_records_the_order_and_leaves_its_interaction_and_late_people_unchecked():
    plan = plan_shot("Before leaving the house, a girl ties her shoelaces")
    order = [u for u in plan.expectations.unchecked if u.kind == "order"]
    assert len(order) == 1 and "before" in order[0].why.lower() and order[0].value.index("ties") < order[0].value.index("leav")
    assert plan.expectations.interaction is None and "interaction" in {u.kind for u in plan.expectations.unchecked}
    late = plan_shot("Before her friend arrives, a girl tidies the room")
    assert "person" not in late.expectations.classes and "before" in unchecked(late, "count")["person"].why
    assert plan_shot("A dog runs, then jumps into the lake").expectations.unchecked == ()


@pytest.mark.parametrize("text, people", [
    ("A zookeeper feeds a giraffe", 1), ("The locksmith opens the door", 1),
    ("A woman and two fishermen chat on the pier", 3), ("A foursome of golfers walks up the fairway", 4),
    ("一男一女在雨中撑伞散步", 2), ("两男一女在会议室里开会", 3), ("A snowman melts in the sun", None),
])
def test_trades_by_the_shape_of_the_word_and_people_counted_by_sex(text, people):
    assert counts_read(plan_shot(text).expectations).get("person") == people


def test_without_anyone_is_nobody():
    assert plan_shot("A beach without anyone around").expectations.forbidden == ("person",)


# -- general causes of the report set's wrong rules (seen after its one scoring), on prompts of their own

def test_riding_something_else_is_no_contact_with_the_gear_the_rider_word_brings():
    assert plan_shot("A snowboarder rides the chairlift to the summit").expectations.interaction is None
    assert plan_shot("A surfer rides a big wave").expectations.interaction == "contact"


@pytest.mark.parametrize("text, name", [
    ("早高峰的路口，车辆排着长队", "car"), ("鸟群从湖面上飞过", "bird"), ("一辆辆卡车驶出港口", "truck"),
    ("码头边停着一排排小船", "boat"),
])
def test_chinese_collectives_and_doubled_classifiers_carry_no_number(text, name):
    plan = plan_shot(text)
    assert name not in plan.expectations.classes and unchecked(plan, "count")[name].confidence < ENFORCE_CONFIDENCE


def test_waiting_for_a_ride_shows_no_vehicle():
    plan = plan_shot("一位老人坐在候车室的长椅上")
    assert counts_read(plan.expectations) == {"person": 1}  # the bench he sits on is setting furniture, unchecked
    assert "bus" not in unchecked(plan, "presence") and "train" not in unchecked(plan, "presence")


def test_an_interaction_read_from_an_after_clause_is_unchecked():
    plan = plan_shot("顾客离开以后，店员把桌子擦干净")
    assert plan.expectations.interaction is None
    assert [u.value for u in plan.expectations.unchecked if u.kind == "interaction"] == ["leave"]


# -- general causes of holdout7's wrong rules (seen after its one blind scoring), on prompts of their own

def test_jumping_into_water_is_no_entering_but_walking_into_a_room_is():
    assert plan_shot("A boy cannonballs into the lake").expectations.interaction is None
    assert plan_shot("A kid jumps into a pile of leaves, then laughs").expectations.interaction is None
    assert plan_shot("A cat walks into the room").expectations.interaction == "enter"


def test_a_vehicle_the_shot_is_inside_is_the_setting():
    plan = plan_shot("A steward hands out blankets in the cabin of a plane")
    assert "airplane" not in plan.expectations.classes and "person" not in plan.expectations.classes


def test_one_each_for_a_group_holds_for_things_not_for_animals():
    assert counts_read(plan_shot("Three teenagers ride bicycles through a tunnel").expectations) == {"person": 3,
                                                                                               "bicycle": 3}
    assert "bird" not in plan_shot("两位老人在湖边喂鸭子").expectations.classes


@pytest.mark.parametrize("text", ["站台上不见一个行人，一辆公交车缓缓驶来", "街上看不到一个路人"])
def test_not_seeing_a_single_person_is_nobody(text):
    assert plan_shot(text).expectations.forbidden == ("person",)


@pytest.mark.parametrize("text, people", [("一位讲解员在介绍展品", 1), ("陶艺师在拉坯", 1), ("教练在指导一位学员跳远", 2),
                                          ("会员专享价的蓝牙耳机", None)])
def test_chinese_trades_by_their_last_character(text, people):
    assert counts_read(plan_shot(text).expectations).get("person") == people


def test_her_calves_are_legs():
    assert "cow" not in {u.subject for u in plan_shot("A dancer stretches her calf at the barre").expectations.unchecked}
    assert "cow" not in plan_shot("A dancer stretches her calf at the barre").expectations.classes


# -- general causes of holdout8's wrong rules (seen after its one blind scoring), on prompts of their own

def test_a_persons_plural_looking_word_before_an_object_is_a_verb():
    assert counts_read(plan_shot("A florist wraps flowers for a young woman").expectations).get("person") == 2
    assert counts_read(plan_shot("A clerk stocks shelves for a customer").expectations).get("person") == 2


def test_food_named_after_an_animal_shows_no_animal():
    assert plan_shot("一盘红烧牛肉放在餐桌上").expectations.classes == {}  # the table is where it stands: setting
    assert plan_shot("妈妈在厨房炖鸡汤").expectations.classes == {"person": 1}
    assert plan_shot("一只鸡在院子里啄米").expectations.classes == {"bird": 1}


def test_the_inside_of_a_chinese_vehicle_is_the_setting():
    plan = plan_shot("公交车厢里只有一位老人坐在窗边")
    assert "bus" not in plan.expectations.classes and plan.expectations.classes.get("person") == 1


# -- general causes of holdout9's wrong rules (seen after its one blind scoring), on prompts of their own

def test_eating_leaves_is_no_leaving():
    assert plan_shot("A koala chews leaves on a eucalyptus branch").expectations.interaction is None
    assert plan_shot("A woman leaves the office").expectations.interaction == "leave"


def test_a_chinese_verb_takes_the_noun_right_after_it():
    assert plan_shot("老师举着话筒带领学生唱歌").expectations.interaction is None  # she holds the microphone
    assert plan_shot("女孩牵着一只白色的小狗散步").expectations.interaction == "contact"


def test_handed_out_to_customers_is_many_served_to_one_customer_is_one():
    assert "person" not in plan_shot("店员在路口给行人发传单").expectations.classes
    assert counts_read(plan_shot("化妆师正在给顾客化妆").expectations) == {"person": 2}


def test_what_happens_after_the_shots_action_is_not_expected():
    plan = plan_shot("A girl reads a book before she turns off the lamp and goes to bed")
    assert "bed" not in plan.expectations.classes and plan.expectations.interaction is None


# -- general causes of holdout10's wrong rules (seen after its one blind scoring), on prompts of their own

def test_one_each_for_a_group_only_with_a_verb_that_says_so():
    assert counts_read(plan_shot("Two teenagers ride motorbikes along the beach").expectations).get("motorcycle") == 2
    plan = plan_shot("A family of three carries boxes into their new house")
    assert "count" in {u.kind for u in plan.expectations.unchecked} or "box" not in str(plan.expectations.classes)
    assert "suitcase" not in plan_shot("Four friends pack suitcases into a van").expectations.classes


def test_not_even_one_is_absence():
    assert plan_shot("马路上一辆车也没有").expectations.forbidden == ("car",)
    assert plan_shot("女孩拿着蛋糕，一口也没吃").expectations.forbidden == ()


def test_a_child_shown_how_is_a_child():
    assert counts_read(plan_shot("A grandpa teaches a kid how to fish").expectations).get("person") == 2


# -- general causes of holdout11's wrong rules (seen after its one blind scoring), on prompts of their own

def test_the_glass_of_a_window_is_no_drinking_glass():
    assert "cup" not in plan_shot("Rain streams down the glass of the shop window").expectations.classes
    assert plan_shot("A glass of water on the table").expectations.classes == {"cup": 1}  # the table: setting


def test_two_family_words_side_by_side_are_two_people():
    assert counts_read(plan_shot("爸爸妈妈陪着女儿在公园散步").expectations).get("person") == 3
    assert counts_read(plan_shot("网红小姐姐在街头跳舞").expectations).get("person") == 1


def test_two_hands_may_be_two_people_and_an_airport_is_full_of_them():
    assert "person" not in plan_shot("Two hands pass a coffee cup across a counter").expectations.classes
    assert "person" not in plan_shot("A businessman checks his watch at the airport").expectations.classes
    assert counts_read(plan_shot("A client signs a contract at a desk").expectations).get("person") == 1


# -- general causes of holdout12's wrong rules (seen after its one blind scoring), on prompts of their own

def test_what_is_waited_for_may_not_be_there():
    assert "bus" not in plan_shot("A student waits for the bus under an umbrella").expectations.classes
    assert "person" not in plan_shot("小猫趴在窗台上等妈妈回家").expectations.classes


def test_a_court_is_no_ball_and_dish_washing_no_bowl():
    assert plan_shot("足球场上空无一人").expectations.classes == {}
    assert "bowl" not in plan_shot("爸爸在厨房洗碗").expectations.classes


def test_vehicles_in_traffic_are_not_counted_but_a_traffic_light_is_no_traffic():
    assert "car" not in plan_shot("A red car crawls through rush hour traffic").expectations.classes
    assert plan_shot("A white car waits at a traffic light").expectations.classes.get("car") == 1


# -- general causes of holdout13's wrong rules (seen after its one blind scoring), on prompts of their own

def test_not_going_in_is_no_entering():
    assert plan_shot("A man stops at the door of the shop but doesn't go in").expectations.interaction is None
    assert plan_shot("小狗站在门口，没有进来").expectations.interaction is None


def test_each_and_every_give_no_number():
    assert "cup" not in plan_shot("A host fills each cup with tea").expectations.classes


def test_a_hand_and_a_wrist_are_one_person():
    assert plan_shot("A hand fastens a bracelet around a wrist").expectations.classes.get("person") == 1


# -- setting furniture (real footage judged with a real COCO detector) -------------------------------

def test_furniture_named_as_the_place_of_the_action_is_unchecked():
    plan = plan_shot("A man in black stands at a high table in a bright room")
    assert counts_read(plan.expectations) == {"person": 1}
    table = unchecked(plan, "presence")["dining table"]
    assert table.confidence < ENFORCE_CONFIDENCE and table.why.startswith("setting furniture")
    assert "bench" not in plan_shot("一位老人坐在长椅上晒太阳").expectations.classes
    assert "chair" not in plan_shot("A cat curls up on a chair by the window").expectations.classes
    assert "dining table" not in plan_shot("一家人围坐在桌前吃晚饭").expectations.classes


def test_furniture_that_is_the_product_or_the_thing_handled_stays_enforced():
    assert plan_shot("A wooden dining table with four chairs, product shot").expectations.classes == \
        {"dining table": 1, "chair": 4}
    assert plan_shot("A man carries a chair across the yard").expectations.classes.get("chair") == 1
    # a thing set on a table: the table is where it stands, and a detector rarely sees a table top edge-on
    assert "dining table" not in plan_shot("A perfume bottle stands on a glass table").expectations.classes


def test_a_verb_after_what_the_subject_wears_is_no_noun():
    plan = plan_shot("A woman in white stands by the window")
    assert "stands" not in plan.expectations.open_vocabulary
    assert counts_read(plan.expectations) == {"person": 1}


# -- general causes of holdout14's wrong rules (seen after its one blind scoring), on prompts of their own

def test_a_noun_the_same_in_the_plural_gives_no_number_without_a_or_a_number():
    plan = plan_shot("A shepherd counts his sheep at dusk")
    assert "sheep" not in plan.expectations.classes
    assert unchecked(plan, "count")["sheep"].confidence < ENFORCE_CONFIDENCE
    assert plan_shot("A sheep grazes on a hill").expectations.classes == {"sheep": 1}
    assert plan_shot("Two sheep graze on a hill").expectations.classes == {"sheep": 2}


def test_a_number_after_the_kin_word_counts():
    assert plan_shot("兄弟三个在院子里踢毽子").expectations.classes.get("person") == 3
    assert plan_shot("母女两人在厨房做饭").expectations.classes.get("person") == 2


def test_not_getting_out_is_no_leaving():
    assert plan_shot("男人坐在出租车里，始终没有下车").expectations.interaction is None
    assert plan_shot("小狗一直没有出门").expectations.interaction is None
    assert plan_shot("画面里没有出现狗").expectations.forbidden == ("dog",)


def test_people_riding_a_bus_or_in_a_restaurant_are_not_counted_exactly():
    plan = plan_shot("Two friends chat on a train")
    assert plan.expectations.classes == {}
    assert unchecked(plan, "presence")["train"].confidence < ENFORCE_CONFIDENCE
    assert "person" not in plan_shot("两个人坐在公交车上聊天").expectations.classes
    assert "person" not in plan_shot("一家三口在餐厅里吃饭").expectations.classes
    assert plan_shot("Two chefs cook in the restaurant kitchen").expectations.at_least == {"person": 2}  # at least
    assert plan_shot("A girl gets on the bus").expectations.classes.get("bus") == 1


def test_gear_a_word_implies_is_not_expected_indoors():
    plan = plan_shot("Two cyclists chat in a cafe")
    assert "bicycle" not in plan.expectations.classes
    assert unchecked(plan, "presence")["bicycle"].confidence < ENFORCE_CONFIDENCE
    assert plan_shot("A cyclist rides through the city").expectations.classes.get("bicycle") == 1


@pytest.mark.parametrize("text, enforced", [
    ("A construction worker walks away from the camera in an empty warehouse", False),
    ("A woman walks away down the corridor", False),
    ("The man walks away and leaves the room", True),
    ("A dog runs out of the kitchen", True),
])
def test_walking_away_is_a_leave_only_where_a_way_out_is_said(text, enforced):
    exp = plan_shot(text).expectations
    assert (exp.interaction == "leave") is enforced
    if not enforced:
        assert "may stay in view" in unchecked(plan_shot(text), "interaction")["person"].why


@pytest.mark.parametrize("text, unchecked, enforced", [
    ("Two cars drive into a parking lot, seen from above", {"car"}, {}),
    ("俯拍：两辆车开进空停车场", {"car"}, {}),
    ("Aerial drone footage of a man jogging along a beach", {"person"}, {}),
    ("航拍：一只狗在草地上奔跑", {"dog"}, {}),
    # objects on a table are photographed from above all the time: still checked
    ("A burger with melting cheese is assembled layer by layer, overhead shot", set(), {"sandwich": 1}),
    ("Two men cycle past a bakery", set(), {"person": 2, "bicycle": 2}),  # people at least 2 (a shop)
])
def test_people_and_vehicles_seen_from_above_are_not_enforced(text, unchecked, enforced):
    expectations = plan_shot(text).expectations
    assert counts_read(expectations) == enforced
    assert {u.subject for u in expectations.unchecked if u.kind == "presence"} == unchecked
    assert all("view from above" in u.why for u in expectations.unchecked
               if u.kind in ("presence", "count") and not u.value.startswith("exactly"))


@pytest.mark.parametrize("text, classes", [
    # the second noun of "X and Y" before a plural verb that is also a place word: the verb
    ("A woman and a dog stand side by side against a grey wall", {"person": 1, "dog": 1}),
    ("A girl and her dog stop at the curb", {"person": 1, "dog": 1}),
    # not coordinated: a compound noun, the place or the thing named
    ("A man buys a drink at a hot dog stand", {"person": 1}),
])
def test_the_verb_after_a_coordinated_animal_is_not_read_as_a_compound_noun(text, classes):
    assert counts_read(plan_shot(text).expectations) == classes


@pytest.mark.parametrize("text, counts", [
    ("A girl 在宿舍里用 laptop 上网课", {"person": 1, "laptop": 1}),
    ("vlog风格，一对couple在海边看sunset", {"person": 2}),
    ("两只dogs在草地上追逐", {"dog": 2}),
    ("博主unboxing一台新的laptop", {"person": 1, "laptop": 1}),
])
def test_english_nouns_in_a_chinese_prompt_are_read(text, counts):
    assert counts_read(plan_shot(text).expectations) == counts


@pytest.mark.parametrize("text, thing", [
    ("A toddler stares at a plate of broccoli", "broccoli"), ("一头大象用鼻子卷起一串香蕉", "banana"),
    ("顾客把一袋橘子装进购物袋", "orange"), ("A basket of apples sits on the porch", "apple"),
])
def test_a_quantity_given_by_its_container_is_present_but_not_counted(text, thing):
    exp = plan_shot(text).expectations
    assert thing not in exp.classes and exp.at_least.get(thing) == 1
    assert unchecked(plan_shot(text), "count")[thing].confidence < ENFORCE_CONFIDENCE


def test_a_place_named_after_a_vehicle_is_not_the_vehicle():
    exp = plan_shot("Shared bikes are lined up outside the subway exit").expectations
    assert "train" not in exp.classes and "train" not in exp.at_least
    assert plan_shot("A subway train pulls into the station").expectations.classes.get("train") == 1
    assert plan_shot("一只鹦鹉站在树枝上").expectations.classes.get("bird") == 1  # 站在: stands, no station


def test_places_full_of_a_class_make_its_count_the_fewest_unless_said_to_be_the_only_one():
    assert plan_shot("A fisherman mends his net on a wooden boat in the harbor").expectations.at_least.get("boat") == 1
    assert plan_shot("A red car pulls into a parking lot").expectations.at_least.get("car") == 1
    assert plan_shot("停车场里一个人影都没有，只停着一辆白色轿车").expectations.classes.get("car") == 1


@pytest.mark.parametrize("text, thing", [
    ("小女孩在纸上画了一只长颈鹿", "giraffe"), ("A boy draws a dog on a whiteboard", "dog"),
    ("A poster of a tiger cub hangs above a cat bed", "bear"), ("A cat watches a bird on the TV", "bird"),
])
def test_a_picture_of_a_thing_is_not_the_thing(text, thing):
    exp = plan_shot(text).expectations
    assert thing not in exp.classes and thing not in exp.at_least


@pytest.mark.parametrize("text, classes", [
    ("哥儿俩在阳台上给爸爸的自行车打气", {"person": 2, "bicycle": 1}),  # whose bicycle: the father need not be there
    ("一个骑自行车的女孩停下来拍照", {"person": 1, "bicycle": 1}),  # who she is, by what she rides
    ("抱着小狗的女孩走过小巷", {"person": 1, "dog": 1}),
    ("男孩趴在窗台上，等着爸爸的车开进小区", {"person": 1}),  # the car is awaited
    ("Pet cam视角：主人出门以后，两只猫跳上了餐桌", {"cat": 2, "dining table": 1}),  # the owner went out before
    ("开箱一台空气炸锅，主播把两个鸡腿放进去", {"person": 1}),  # chicken legs are food, no bird
])
def test_chinese_owners_relative_clauses_and_what_went_away(text, classes):
    assert counts_read(plan_shot(text).expectations) == classes


def test_a_noun_naming_a_kind_of_box_or_costume_and_instead_of_are_not_the_thing():
    assert "pizza" not in counts_read(plan_shot("Two pizza boxes sit on the coffee table").expectations)
    assert "sports ball" not in counts_read(plan_shot("Instead of the ball, the puppy brings back a stick").expectations)
    assert counts_read(plan_shot("A cashier bags groceries for an elderly man").expectations) == {"person": 2}


def test_an_owner_of_a_place_need_not_be_in_view():
    exp = plan_shot("A delivery driver carries four bags up to a customer's front door").expectations
    assert counts_read(exp).get("person") == 1


# -- general causes of holdout21's wrong rules (seen after its one blind scoring), on prompts of their own

@pytest.mark.parametrize("text, name", [
    ("Five cyclists gather by the lake, each with a backpack on", "backpack"),  # one each: as many as the group
    ("摩托车赛的起跑线上，车手们在等发令枪", "motorcycle"),  # a race of them: several
    ("服务员一碗碗地端上米饭", "bowl"),  # one after another: many
    ("一篮子苹果、橙子和香蕉摆在桌上", "banana"),  # a measure heads the whole list
    ("A bowl of apples, oranges and bananas on the counter", "banana"),
    ("地铁站里挤满了背着书包的学生", "backpack"),  # each of a group with no number
])
def test_a_count_given_by_distribution_a_rough_number_or_a_measure_is_not_enforced(text, name):
    exp = plan_shot(text).expectations
    assert name not in exp.classes
    assert unchecked(plan_shot(text), "count")[name].confidence < ENFORCE_CONFIDENCE


@pytest.mark.parametrize("text", ["A man on the sofa calls his mother to say he is fine", "女孩坐在卧室里给妈妈打视频电话"])
def test_someone_called_may_be_at_the_other_end(text):
    exp = plan_shot(text).expectations
    assert "person" not in exp.classes and exp.at_least.get("person") == 1


def test_a_scooter_may_be_a_kick_scooter_and_a_person_word_before_its_object_is_a_verb():
    assert "motorcycle" not in counts_read(plan_shot("A boy pushes his scooter up the hill").expectations)
    assert "book" not in counts_read(plan_shot("A receptionist books the rooms for the tour").expectations)
    assert "person" not in str(plan_shot("A busboy clears the tables in a diner").expectations.classes)
    assert counts_read(plan_shot("A busboy clears the tables in a diner").expectations).get("person") == 1


def test_new_words_people_and_products():
    assert counts_read(plan_shot("A batter swings at the first pitch").expectations) == {"person": 1, "baseball bat": 1}
    assert "person" not in counts_read(plan_shot("Cake batter drips from a spoon").expectations)
    assert counts_read(plan_shot("A wireless mouse next to a keyboard").expectations).get("mouse") == 1
    assert counts_read(plan_shot("熊孩子在客厅里乱跑").expectations) == {"person": 1}
    assert plan_shot("一辆大巴慢慢倒进停车场").expectations.at_least.get("bus") == 1  # a car park holds others
    assert "person" in counts_read(plan_shot("候车大厅里挤满了拖着行李箱的旅客").expectations)
    assert "person" in counts_read(plan_shot("包子铺门口排起了长队").expectations)  # a queue is people
    assert "person" in counts_read(plan_shot("A livestreamer holds a lipstick up to the ring light").expectations)


# -- general causes of holdout22's wrong rules (seen after its one blind scoring), on prompts of their own

@pytest.mark.parametrize("text, name", [
    ("A fisherman holds up a trout longer than his arm next to his dog", "dog"),  # control: the dog is in view
])
def test_a_thing_beside_a_comparison_stays(text, name):
    assert name in counts_read(plan_shot(text).expectations)


@pytest.mark.parametrize("text, name", [
    ("A boy holds up a watermelon bigger than his little sister", "person"),  # compared with: need not be in view
    ("奶奶拿出一个比西瓜还大的南瓜，旁边是一只比猫还小的狗", "cat"),
    ("A baker tells the camera her son ate three donuts this morning, then slices a loaf", "donut"),  # what is said
    ("主播说她的猫昨天把沙发抓坏了，所以今天换了个背景", "couch"),
])
def test_things_named_in_a_comparison_or_in_what_someone_says_need_not_be_in_view(text, name):
    plan = plan_shot(text)
    assert counts_read(plan.expectations).get(name, 0) <= (1 if name == "person" else 0)
    assert any(u.subject == name and u.confidence < ENFORCE_CONFIDENCE for u in plan.expectations.unchecked)


@pytest.mark.parametrize("text, name", [
    ("A girl says goodbye to her grandma at the gate", "person"),  # spoken to: in view
    ("He tells his son a story on the bed", "bed"),  # no clause said: nothing happens elsewhere
])
def test_who_is_spoken_to_and_where_stay(text, name):
    assert name in counts_read(plan_shot(text).expectations)


@pytest.mark.parametrize("text, name", [
    ("Two towel elephants sit on the hotel bed", "elephant"),  # made to look like one
    ("桌上摆着一只用纸折成的小船", "boat"),
    ("An optician slides a new pair of glasses onto a customer's nose", "cup"),  # eyeglasses
    ("Kids press their noses to the glass of the aquarium", "cup"),  # a pane
    ("At a car wash, a man dries his motorbike", "car"),  # the place, no car
])
def test_things_that_only_look_like_or_share_a_name_with_a_class_are_not_enforced(text, name):
    assert name not in counts_read(plan_shot(text).expectations)


@pytest.mark.parametrize("text, name", [
    ("演唱会上，观众们举着手机跟着唱", "cell phone"),  # held by people of no stated number
    ("老板把两个杯子和碗放进水槽", "bowl"),  # after a counted item of a list, no number of its own
])
def test_things_held_by_an_unnumbered_group_or_after_a_counted_list_item_have_no_count(text, name):
    plan = plan_shot(text)
    assert name in counts_read(plan.expectations) and name not in plan.expectations.classes
    assert unchecked(plan, "count")[name].confidence < ENFORCE_CONFIDENCE
