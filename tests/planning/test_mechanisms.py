"""The general rules behind issue 12's examples, one case each (not the examples themselves)."""
from __future__ import annotations

import pytest

from tests.planning import counts_read
from clipmill.planning import plan_shot


@pytest.mark.parametrize("text, classes", [
    ("A taxi driver waves at a cyclist", {"person": 2, "car": 1, "bicycle": 1}),  # a vehicle + driver/rider
    ("A bottle of red wine is poured into two glasses", {"bottle": 1, "wine glass": 2}),  # wine near the glasses
    ("A kitten plays with a ball of yarn", {"cat": 1}),  # a ball of yarn is no sports ball
    ("Three teenagers ride bicycles through a tunnel", {"person": 3, "bicycle": 3}),  # one each
    ("A family of four has a picnic", {"person": 4}),
    ("A group of five friends laughs", {"person": 5}),
    ("An elephant sprays water over her calf", {"elephant": 2}),  # the calf is an elephant
    ("A puppy is carried out of a car by a little girl", {"dog": 1, "car": 1, "person": 1}),
    ("Unboxing video: hands open a white box", {"person": 1}),  # hands are one person
    ("服务员端来两杯咖啡放在桌上", {"person": 1, "cup": 2}),  # the classifier is the cup; the table, setting
    ("一家三口在海边堆沙堡", {"person": 3}),
    ("网红小姐姐在街头跳舞", {"person": 1}),  # two nouns, one person
    ("五只小鸭子跟着鸭妈妈过马路", {"bird": 6}),
    ("爸爸开车，妈妈坐在副驾驶上", {"person": 2, "car": 1}),  # the verb names the car
])
def test_counts(text, classes):
    assert counts_read(plan_shot(text).expectations) == classes


@pytest.mark.parametrize("text, absent, kept", [
    ("A dog runs on the beach, no people in the background", ["person"], {"dog": 1}),
    ("Two sheep graze in a meadow, no dogs or people in sight", ["dog", "person"], {"sheep": 2}),
    ("没有人的办公室里，一台笔记本电脑亮着屏幕", ["person"], {"laptop": 1}),
    ("一个男人站在阳台上抽烟，不要出现其他人", [], {"person": 1}),  # one man: people cannot be forbidden
])
def test_absence(text, absent, kept):
    plan = plan_shot(text)
    assert plan.absent == absent and plan.expectations.classes == kept


def test_a_negated_instruction_goes_to_the_negative_prompt():
    plan = plan_shot("不要出现任何文字，一只猫在窗台上晒太阳")
    assert plan.actions == ["一只猫晒太阳"] and plan.negative_prompt.endswith("文字")


@pytest.mark.parametrize("text, actions", [
    ("A model walks down the runway, turns, and poses for the cameras",
     ["A model walks down the runway", "The model turns", "The model poses for the cameras"]),
    ("A cat sits on a windowsill, then suddenly jumps off", ["A cat sits on a windowsill", "The cat suddenly jumps off"]),
    ("Someone pours hot chocolate into a mug, marshmallows melting on top",
     ["Someone pours hot chocolate into a mug", "Marshmallows melting on top"]),
    ("一位博主在试吃螺蛳粉，辣得直吐舌头，然后竖起大拇指", ["一位博主在试吃螺蛳粉", "博主辣得直吐舌头", "博主竖起大拇指"]),
    ("穿着白裙子的新娘走向新郎", ["穿着白裙子的新娘走向新郎"]),
])
def test_actions_keep_their_subject(text, actions):
    assert plan_shot(text).actions == actions


def test_camera_look_labels_and_hashtags():
    plan = plan_shot("#新品上市# Product shot: a matte black water bottle on a concrete block, slow 360 rotation. "
                     "Style: cinematic. Negative: text")
    assert plan.initial_state == "A matte black water bottle on a concrete block"
    assert plan.camera == ["Product shot", "slow 360 rotation"] and plan.look == ["Style: cinematic"]
    assert "新品" not in plan.prompt and plan.negative_prompt.endswith("text") is False  # already in the default
    plan = plan_shot("Aerial drone shot of a sailboat gliding across turquoise water")
    assert plan.camera == ["Aerial drone shot"] and plan.open_vocabulary == []  # the drone films, it is not shown


@pytest.mark.parametrize("text, interaction", [
    ("快递员敲门，女主人开门接过包裹", "handover"),  # taken from the one who came
    ("A tram passes a man waiting at the stop", None),  # passing by is no hand-over
    ("A little girl gives her puppy a bath", "contact"),
    ("Two boys shake hands after a tennis match", "contact"),
    ("The bus stops and a crowd of commuters gets off", "leave"),
])
def test_interactions(text, interaction):
    assert read_interaction(plan_shot(text)) == interaction


def read_interaction(plan) -> str | None:
    """The interaction the planner read, enforced or (QA could not check it) kept as unchecked."""
    unchecked = [u.value for u in plan.expectations.unchecked if u.kind == "interaction"]
    return plan.expectations.interaction or (unchecked[0] if unchecked else None)


# -- mechanisms added for the fourth held-out set (general, each shown on prompts of its own) ----


@pytest.mark.parametrize("text, classes, first_action", [
    ("一个骑自行车的女孩停下来，把车靠在树旁，然后拍照", {"person": 1, "bicycle": 1}, "女孩把车靠在树旁"),
    ("两个穿红裙子的女孩在跳舞", {"person": 2}, None),
    ("一个背着书包的男孩推着自行车回家，把车停在门口", {"person": 1, "backpack": 1, "bicycle": 1}, None),
])
def test_a_numeral_before_a_describing_clause_counts_its_head(text, classes, first_action):
    plan = plan_shot(text)
    assert counts_read(plan.expectations) == classes
    if first_action:
        assert plan.actions[1] == first_action  # the girl acts, not her bicycle


@pytest.mark.parametrize("text, classes", [
    ("A truck driver climbs into his cab and starts the engine", {"person": 1, "truck": 1}),
    ("A cyclist locks her bike to a railing", {"person": 1, "bicycle": 1}),
    ("一辆卡车停在路边，司机把车门关上", {"truck": 1, "person": 1}),
])
def test_a_vehicle_named_again_is_the_one_already_there(text, classes):
    assert counts_read(plan_shot(text).expectations) == classes


def test_a_bus_and_a_car_stay_two_vehicles():
    assert plan_shot("A bus stops and a car passes it").expectations.classes == {"bus": 1, "car": 1}


@pytest.mark.parametrize("text, action", [
    ("两个老人在公园长椅上下象棋", "两个老人下象棋"),
    ("四个朋友在客厅里打麻将", "四个朋友打麻将"),
])
def test_games_are_actions(text, action):
    assert plan_shot(text).actions == [action]


@pytest.mark.parametrize("text, kind, subjects", [
    ("A pilot walks across the tarmac toward his plane", "approach", ("person", "airplane")),
    ("A puppy runs through the garden towards a little girl", "approach", ("dog", "person")),
    ("小狗把球叼到主人面前", "handover", ("dog", "person", "sports ball")),
    ("A cyclist rides down a mountain trail", "contact", ("person", "bicycle")),
    ("A man and a woman dance in the rain", "contact", ("person", "person")),
])
def test_interactions_of_general_shapes(text, kind, subjects):
    plan = plan_shot(text)
    assert (plan.expectations.interaction, plan.expectations.subjects) == (kind, subjects)


def test_one_person_dancing_alone_touches_nobody():
    assert plan_shot("A girl dances in her bedroom").expectations.interaction is None


@pytest.mark.parametrize("text, names", [
    ("A motorcyclist takes off his helmet and waves", ["helmet"]),
    ("奶奶把一个红包递给孙子", ["red envelope"]),
    ("A girl on roller skates glides down the boardwalk", ["roller skates"]),
])
def test_more_subjects_outside_coco_are_named(text, names):
    plan = plan_shot(text)
    assert all(n in plan.open_vocabulary for n in names)
    assert list(plan.expectations.open_vocabulary) == plan.open_vocabulary
    assert not any(w.startswith("vague prompt") for w in plan.warnings)


def test_a_shop_named_after_its_goods_is_a_place_not_a_subject():
    plan = plan_shot("三个女生在奶茶店门口自拍，手机店里没有人")
    assert counts_read(plan.expectations) == {"person": 3} and plan.open_vocabulary == []


def test_absent_classes_are_what_qa_forbids():
    plan = plan_shot("Two horses gallop across a field, no riders")
    assert plan.absent == ["person"] and plan.expectations.forbidden == ("person",)
    assert plan.expectations.classes == {"horse": 2}


@pytest.mark.parametrize("text, classes", [
    ("Two teenagers skateboard down an empty street", {"person": 2, "skateboard": 2}),
    ("Three kids ski down the hill", {"person": 3, "skis": 3}),
    ("Two friends bike along the river", {"person": 2, "bicycle": 2}),
])
def test_a_sport_whose_verb_is_its_gear_brings_the_gear(text, classes):
    assert counts_read(plan_shot(text).expectations) == classes


def test_a_label_before_a_colon_does_not_swallow_the_subject():
    plan = plan_shot("Product video: matte black earbuds in an open charging case, light sweeps across them, macro")
    assert plan.open_vocabulary == ["earbuds"]
    assert not any(w.startswith("vague prompt") for w in plan.warnings)
    assert "Matte black earbuds" in plan.prompt and "Light sweeps across them" in plan.prompt


def test_who_walks_out_with_whom_is_not_what_they_walk_out_of():
    plan = plan_shot("A bride and groom walk out of the church as guests throw petals")
    assert plan.expectations.interaction == "leave"
    assert plan.initial_state.startswith("A bride and groom inside the frame")
    assert plan.outcome == "The bride and the groom have left the frame"
    assert plan_shot("A yellow taxi stops and a man gets out").initial_state == "A man inside a yellow taxi"


def test_a_camera_only_chinese_prompt_opens_on_its_camera_move():
    plan = plan_shot("镜头缓缓推近一双红色高跟鞋，背景虚化，暖色调")
    assert plan.prompt.startswith("镜头缓缓推近一双红色高跟鞋。") and "。。" not in plan.prompt


@pytest.mark.parametrize("text, classes, absent", [
    ("A quiet kitchen, not a single person, a kettle starts to boil", {}, ["person"]),
    ("一对情侣在海边散步，身后跟着一只狗，画面里没有其他人", {"person": 2, "dog": 1}, []),
    ("别出现人脸，只拍一双手在揉面团", {"person": 1}, []),
])
def test_negation_scope(text, classes, absent):
    plan = plan_shot(text)
    assert (plan.expectations.classes, plan.absent) == (classes, absent)
    assert not any(w.startswith("vague prompt") for w in plan.warnings)


def test_nobody_else_is_cut_but_never_forbids_the_people_asked_for():
    plan = plan_shot("一对情侣在海边散步，身后跟着一只狗，画面里没有其他人")
    assert plan.actions == ["一对情侣散步", "身后跟着一只狗"]
    assert not plan.negative_prompt.endswith("人")


@pytest.mark.parametrize("text, classes", [("俩兄弟在院子里洗车", {"person": 2, "car": 1}),
                                           ("A pair of lovebirds sit on a branch", {"bird": 2}),
                                           ("三个闺蜜在咖啡馆聊天", {"person": 3})])
def test_more_counts_and_words(text, classes):
    plan = plan_shot(text)
    assert counts_read(plan.expectations) == classes and plan.actions


@pytest.mark.parametrize("text, vague", [("He walks into the room", True), ("他走在街上", True),
                                         ("No people, not a single car, just an empty road", False)])
def test_a_scene_is_a_subject_but_a_lone_pronoun_is_not(text, vague):
    assert any(w.startswith("vague prompt") for w in plan_shot(text).warnings) == vague


@pytest.mark.parametrize("text, classes", [
    ("A red Tesla parks in front of a glass building", {"car": 1}),  # a make is a car; glass is the building's
    ("一辆宝马停在路边", {"car": 1}),  # 辆: a BMW, not a horse
    ("A trucker climbs down from his rig", {"person": 1, "truck": 1}),
    ("的哥把行李放进后备箱", {"person": 1, "car": 1, "suitcase": 1}),
    ("A glass shatters on the floor", {"cup": 1}),
])
def test_makes_roles_and_materials(text, classes):
    assert counts_read(plan_shot(text).expectations) == classes


@pytest.mark.parametrize("text, kind", [
    ("A waiter serves a pizza to two customers", "handover"),
    ("两个小孩互相扔雪球，然后一起堆雪人", None),  # thrown at each other, not passed
    ("两个男孩在篮球场上互相传球，然后投篮", "handover"),
])
def test_serving_hands_over_and_snowballs_do_not(text, kind):
    assert plan_shot(text).expectations.interaction == kind


@pytest.mark.parametrize("text, classes", [
    ("She unlocks her bike, puts on a helmet and rides off down the street", {"person": 1, "bicycle": 1}),
    ("他走在街上", {"person": 1}),  # still warned as vague, but QA expects the person it shows
    ("Heavy rain falls on the street", {}),
])
def test_a_prompt_opening_on_he_or_she_shows_a_person(text, classes):
    assert counts_read(plan_shot(text).expectations) == classes


def test_no_animals_forbids_no_class_it_would_have_to_guess():
    plan = plan_shot("A man walks his dog, no other animals around")
    assert counts_read(plan.expectations) == {"person": 1, "dog": 1} and plan.absent == []


def test_a_chinese_container_names_what_it_holds():
    assert plan_shot("模特手持香水瓶在镜头前旋转展示").open_vocabulary == ["perfume"]


@pytest.mark.parametrize("text, birds", [("一对老夫妻坐在公园长椅上喂鸽子", 2), ("一只鸽子落在窗台上", 1),
                                         ("一只布偶猫坐在窗边看着窗外的小鸟", 1)])
def test_flock_birds_with_no_number_are_more_than_one(text, birds):
    expectations = plan_shot(text).expectations
    unchecked = {u.subject: u.value for u in expectations.unchecked if u.kind == "count"}
    # a count read off the group before them ("一对老夫妻": two pigeons) is a guess: read, but not enforced
    assert expectations.classes.get("bird", unchecked.get("bird")) in (birds, str(birds))


@pytest.mark.parametrize("text, classes", [
    ("A sleek black smartwatch on a wrist, the screen lights up, close-up", {"person": 1}),  # a wrist is a person
    ("一块智能手表戴在手腕上，屏幕亮起", {"person": 1}),
    ("A cat sleeps on the arm of the sofa", {"cat": 1, "couch": 1}),  # the sofa's arm
    ("一台笔记本电脑在咖啡桌上打开，屏幕亮起", {"laptop": 1}),  # no coffee on the coffee table; the table is setting
])
def test_body_parts_and_compound_furniture(text, classes):
    assert counts_read(plan_shot(text).expectations) == classes


def test_water_droplets_open_on_a_noun():
    plan = plan_shot("Bluetooth speaker on a rock by a lake, water droplets bounce on it as music plays")
    assert plan.actions == ["Water droplets bounce on it as music plays"]


@pytest.mark.parametrize("text, classes, action", [
    ("一个女孩在花店里包花束", {"person": 1}, "一个女孩包花束"),
    ("小狗在宠物店门口等主人", {"dog": 1}, "小狗在宠物店门口等主人"),  # the owner it waits for may not be there yet
    ("全家人在客厅看电视", {"tv": 1, "person": 1}, "全家人看电视"),  # a family with no number: present, at least one
    ("一家三口在海边，全家人一起堆沙堡", {"person": 3}, "全家人一起堆沙堡"),  # the three already named
])
def test_chinese_families_and_verbs(text, classes, action):
    plan = plan_shot(text)
    assert counts_read(plan.expectations) == classes and plan.actions == [action]


@pytest.mark.parametrize("text, classes", [
    ("A puppy naps in a dog bed", {"dog": 1}),  # a dog bed is no COCO bed
    ("A baby sleeps in a car seat", {"person": 1}),  # a car seat is no car
    ("A woman switches on a table lamp", {"person": 1}),  # a table lamp is no table
    ("A cat sits on top of a bookshelf", {"cat": 1}),  # a bookshelf is no book
    ("小狗睡在狗床上", {"dog": 1}),
    ("宝宝坐在汽车安全座椅里", {"person": 1}),  # neither a car nor a chair
    ("一个女孩坐在电脑桌前", {"person": 1}),  # the desk is for a computer: no laptop; the desk unchecked
    ("男孩坐在书桌前写作业", {"person": 1}),  # no book
    ("蛋糕刀放在盘子旁边", {"knife": 1}),  # a thing before a thing says what the second is for
    ("A girl skates in the park", {"person": 1}),  # the word after a singular noun is its verb
    ("A leather crossbody bag on a hook", {"handbag": 1}),
    ("A traffic warden waves at a little boy", {"person": 2}),  # a trade is a person
    ("一位老汉在田里犁地", {"person": 1}),
])
def test_compound_nouns_and_trades(text, classes):
    assert counts_read(plan_shot(text).expectations) == classes


def test_a_desk_is_an_unchecked_dining_table():
    exp = plan_shot("A silver laptop opens on a glass desk").expectations
    assert exp.classes == {"laptop": 1}
    assert any(u.subject == "dining table" and u.kind == "presence" for u in exp.unchecked)


@pytest.mark.parametrize("text, forbidden", [
    ("Slow motion of a basketball in an empty gym", ("person",)),  # nobody named: nobody there
    ("A teenager skates down an empty street", ()),  # a person named: the street is empty of others
    ("Kids play in an empty parking lot", ()),  # people named, their count unsure: nothing forbidden
    ("An empty bottle rolls across the floor", ()),  # a bottle is no place
])
def test_empty_places(text, forbidden):
    assert plan_shot(text).expectations.forbidden == forbidden


@pytest.mark.parametrize("text", ["A tour guide leads a group through a museum", "两位老太太在广场上跳舞"])
def test_people_with_a_group_are_not_counted_exactly(text):
    assert "person" not in plan_shot(text).expectations.classes


@pytest.mark.parametrize("text, classes", [
    ("A little boy pours milk into his cereal bowl", {"person": 1, "bowl": 1}),  # a base-form verb takes no singular subject
    ("A dog bowl on the kitchen floor", {"bowl": 1}),  # the dog only says what the bowl is for
    ("A family of four skis down the slope", {"person": 4, "skis": 4}),  # the number is the family's
])
def test_compound_heads_and_sport_verbs_after_a_group(text, classes):
    assert counts_read(plan_shot(text).expectations) == classes


def test_a_negated_touch_is_no_contact():
    exp = plan_shot("A cat stares at the goldfish bowl but never touches it").expectations
    assert exp.interaction is None and any(u.kind == "interaction" for u in exp.unchecked)


def test_stopping_a_two_wheeler_brings_its_rider():
    assert "person" not in plan_shot("交通协管员在路口拦下一辆电动车").expectations.classes


def test_a_sport_verb_after_what_the_person_wears():
    assert counts_read(plan_shot("A girl in a red jacket skis down the slope").expectations) == {"person": 1, "skis": 1}


@pytest.mark.parametrize("text", ["A newlywed pair dances slowly under string lights", "An elderly pair walks along the pier"])
def test_a_pair_of_people_named_by_an_adjective(text):
    assert counts_read(plan_shot(text).expectations) == {"person": 2}  # newlyweds: at least two (a wedding)


@pytest.mark.parametrize("text", ["A father and son fish from a dock", "A mother and daughter duo bake bread"])
def test_two_people_joined_by_and(text):
    assert counts_read(plan_shot(text).expectations) == {"person": 2}
