"""How sure the planner is of each expectation, and which ones QA enforces.

Every expectation the rules derive gets a confidence from the rule that derived it: a number
written with the noun ("two dogs", "一家三口") or a plain noun ("a chef", "一只猫") is high; a
count read from a collective word ("a couple", "爷孙俩") a little lower; a count nobody wrote
("customers", "乘客们"), a thing named only inside a negated action ("without looking at his
phone") or a person inferred from a pronoun lower still. Only expectations at or above
`ENFORCE_CONFIDENCE` go into the fields QA enforces (`Expectations.classes`, `at_least`,
`forbidden`, `interaction`); the others are kept in `Expectations.unchecked`, each with its
confidence and why, and `clipmill plan` shows them.

Precision comes first: a wrong enforced rule rejects a good clip (and spends GPU time on a
regeneration), a missing one only lets QA check less. QA checks a class in `classes` with its
count (more or fewer fails the clip), so a class whose count is unsure is enforced only as
present (`at_least` 1). Where others of a class are normally in view the count written is the
fewest (`at_least`): "a barista pours latte art" is right with customers behind her, and "four
people play basketball" filmed with two is still a wrong count. For people that is everywhere but
a home (a room, a couch, a bed), a close-up of hands, or where the text says they are alone: "a
hiker on the summit", "a courier at a front door" and a prompt that names no place at all are
right with a passer-by in view. For vehicles it is traffic and car parks, for boats a harbour.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from clipmill.planning.language import Language
from clipmill.planning.lexicon import PAIR_NOUNS
from clipmill.planning.lexicon.company import (CAR_PARK, CROWDS, HARBOUR, PRIVATE_PLACES, PUBLIC_PLACES,
                                              SERVING_TRADES)
from clipmill.planning.lexicon.groups import GROUP_NUMBERS
from clipmill.planning.lexicon.negation import EMPTY_PLACE_EN, EMPTY_PLACE_ZH, HEDGES
from clipmill.planning.lexicon.verbs import VERB_FORMS_EN
from clipmill.planning.parsing import Absence, Event, Mention
from clipmill.planning.parsing.negation import negated_action_spans
from clipmill.qa.types import Expectations, UncheckedExpectation

# At or above: enforced. Below: recorded as unchecked.
ENFORCE_CONFIDENCE = 0.7

# Confidence of each rule.
STATED = 0.9  # a number, article or classifier written with the noun; a plain noun
COLLECTIVE = 0.8  # "a couple", "twins", "a trio of", "爷孙俩", "一家三口"
BODY_PART = 0.85  # "hands knead dough": one person
IMPLIED = 0.8  # "a cyclist": a bicycle
IMPLIED_SMALL = 0.6  # "basketball": a ball, but small and fast; the SSD never saw it in 100 frames of a game
IMPLIED_INDOORS = 0.6  # "a skier drinks hot chocolate in the lodge": the gear is left outside
PRONOUN = 0.75  # "she" with no person named
ROLE_SUFFIX = 0.75  # a trade word the lexicon does not list but whose shape names a person
UNSTATED = 0.3  # a plural or group with no number: "customers", "乘客们", "a family"
PUBLIC_NOUN_ZH = 0.6  # "顾客", "游客" with no number: Chinese nouns carry no plural
NEGATED_ACTION = 0.4  # a thing named only inside a negated action
EXPLICIT_ABSENCE = 0.9  # "no cars", "没有狗", "nobody", "空无一人"
EMPTY_PLACE = 0.75  # "空荡荡的公园": empty, so nobody there
HEDGED_ABSENCE = 0.5  # "几乎没有人", "almost no cars": a few may be there
INTERACTION = 0.8
UNCHECKABLE = 0.5  # an interaction QA cannot check (fewer than two COCO subjects)
TIME_CLAUSE = 0.6  # an interaction read from "before X" / "after X": X may only say when
FROM_GROUP = 0.6  # "an old couple feeds pigeons": two pigeons, one each, is a guess
SETTING = 0.5  # a vehicle the shot is inside ("the aisle of a plane")
AWAITED = 0.5  # "waits for the bus", "等主人回家": what is waited for may not be there yet
WALKS_AWAY = 0.6  # "walks away from the camera": it recedes, and may never leave the shot
ORDER = 0.75  # the order of events read from "before"/"after", "之前"/"以后"
# "stands at a high table", "坐在椅子上", "bottles on a white table": furniture named as where something is.
# On real product footage the SSD never saw the table under three bottles in 60 frames.
SETTING_FURNITURE = 0.5
# "seen from above", "航拍": COCO's photos of people and vehicles are taken at eye level, and its
# detectors lose them from overhead (the SSD found two cars driving into a car park, filmed from
# above, in 2 of 38 frames). Food and objects on a table are photographed from above all the time.
FROM_ABOVE = 0.5
DEPICTED = 0.5  # "画了一只长颈鹿", "a poster of a tiger": an image of the thing, not the thing
ELSEWHERE = 0.5  # "heavier than his son", "说她老公昨天…": named in a comparison or in what someone says
NEAREST_CLASS = 0.5  # "a desk", "书桌": COCO has no such class; the nearest one (dining table) may not be what a detector says
LARGE_COUNT = 0.5  # more than MAX_ENFORCED_COUNT of a class: no detector holds such a count steady
MAX_ENFORCED_COUNT = 6

# Far above: nothing on the ground looks as COCO shows it. Above: people and vehicles don't.
_FAR_ABOVE = re.compile(r"\b(?:aerial|drone\s+(?:shot|footage|view|camera)|bird'?s[-\s]eye|satellite\s+view|from\s+the\s+sky)\b"
                        r"|航拍|鸟瞰|无人机", re.I)
_ABOVE = re.compile(r"\b(?:(?:seen|filmed|shot|viewed|looking\s+down)\s+from\s+(?:high\s+)?above|from\s+overhead|"
                    r"overhead\s+(?:view|shot|angle|camera)|top[-\s]down)\b|俯拍|俯视|俯瞰|顶视|从上往下", re.I)
_SEEN_AT_EYE_LEVEL = frozenset({"person", "bicycle", "car", "motorcycle", "bus", "truck", "train", "boat", "horse",
                                "cow", "sheep", "dog", "elephant", "bear", "zebra", "giraffe"})
# "alone", "on her own", "the only customer": no one else is there to see
_NOBODY_ELSE = re.compile(r"\b(?:alone|by\s+(?:him|her|them)sel(?:f|ves)|on\s+(?:his|her|their)\s+own|(?:nobody|no\s+one)\s+else|"
                          r"the\s+only\s+(?:one|person|customer|guest|passenger|diner|shopper|patient))\b|"
                          r"独自|独自一人|孤零零|没有别人|没有其他人|只有(?:他|她)(?:一个人)?", re.I)
# "没人坐", "nobody sits on it": nobody uses a thing; people may still be in view
_NOBODY_USES = re.compile(r"(?:没人|没有人|无人)(?:去|来)?(?:坐|用|碰|动|吃|喝|要|买|接|理|管|注意|搭理|问津|打扰|收拾|认领|玩)|"
                          r"\b(?:nobody|no\s+one|no-one)\s+(?:is\s+|was\s+|ever\s+)?(?:sits?|sitting|uses?|using|touch(?:es|ing)?|eats?|"
                          r"eating|drinks?|drinking|takes?|taking|buys?|buying|answers?|answering|picks?\s+up|picking\s+up|"
                          r"notices?|noticing|claims?|wants?|plays?\s+with|playing\s+with|rides?|riding)\b", re.I)
# "down the aisle of a plane", "in the cabin of a bus": the vehicle is where the shot is, not a thing in view
_INSIDE_VEHICLE = re.compile(r"\b(?:aisle|cabin|cockpit|interior|inside)\s+(?:of\s+)?(?:a|an|the)\s+(?:\w+\s+)?"
                             r"(?P<vehicle>plane|airplane|jet|airliner|bus|train|subway)\b", re.I)
# "teenagers chat on a bus", "坐在公交车上": riding it, the shot is inside; "gets on the bus" is no riding
_RIDING = re.compile(r"\b(?:on|aboard|in)\s+(?:a|the)\s+(?:\w+\s+)?(?P<vehicle>bus|train|subway|tram|ferry|plane|"
                     r"airplane)\b(?!\s+(?:stop|station|window|door|driver|platform|shelter|lane))", re.I)
_BOARDING_BEFORE = re.compile(r"\b(?:gets?|got|getting|hops?|hopping|climbs?|climbing|jumps?|jumping|steps?|stepping|"
                              r"waits?|waiting|runs?|running)\s+$", re.I)
_RIDING_ZH = re.compile(r"(?:坐在|在|站在)[^，。,]{0,3}$")
_PUBLIC_VEHICLES = {"bus", "train", "airplane", "boat"}
_VEHICLE_PLACE_AFTER = re.compile(r"\s*(?:exit|entrance|station|stop|platform|line|map|sign|ticket|stairs|gate|shelter|"
                                  r"depot|terminal|lane|tracks?)\b|口|站(?![在着起了住])|线路|票|轨道", re.I)
# "地铁车厢里", "飞机机舱内", "公交车上的座位": the vehicle named right before its inside
_INSIDE_VEHICLE_ZH = re.compile(r"(?:车厢|机舱|船舱|车内|车里|舱内|客舱)")
# "只有一位老人", "only a lone fisherman": the count is said to be all there is
_ONLY_BEFORE = re.compile(r"(?:只有|仅有|唯一的?|only|just|alone|lone|single)\W*(?:\w+\W+)?$|只[^\s，。,]{0,3}$", re.I)
# "waiting for the bus", "等主人回家": what comes right after is awaited, not (yet) in view
_AWAITING = re.compile(r"(?:\bwait(?:s|ed|ing)?\s+for|\bawait(?:s|ed|ing)?|等着|等待|等候|盼着|等)\s*(?:the|a|an|his|her|its|their)?\s*"
                       r"(?:\w+\s+)?$|(?:等着|等待|等候|盼着)[^，。,\s]{0,6}$", re.I)
# Vehicles in traffic: how many is not said
_TRAFFIC = re.compile(r"\b(?:busy|traffic(?!\s+(?:lights?|cones?|signs?|signals?))|rush\s+hour|congested|packed)\b|"
                      r"车流|车水马龙|车来车往|堵车|拥堵|川流不息|高峰", re.I)
_VEHICLE_CLASSES = {"car", "bus", "truck", "motorcycle", "bicycle"}
# The places full of a class, where a count of it written is only the fewest in view
_FULL_OF = {**{name: (_TRAFFIC, CAR_PARK) for name in _VEHICLE_CLASSES}, "boat": (HARBOUR,)}
# Going in or out, said of a negated action ("without going in", "没有钻进去"): no entering or leaving
_MOVE_IN_OUT = re.compile(r"\b(?:go(?:es|ing)?|walk(?:s|ing)?|step(?:s|ping)?|come(?:s|ing)?|get(?:s|ting)?)\s+(?:in|inside|"
                          r"out|into|away)\b|\b(?:enter(?:s|ing)?|leav(?:e|es|ing)|exit(?:s|ing)?)\b|进去|进来|进门|出去|出来|"
                          r"离开|走进|走出|钻进|上车|下车|出门|进门|进屋|出屋|进店|出发|回家|下楼|上楼", re.I)
# Touching, said of a negated action ("never touches it", "没有碰"): no contact
_TOUCH = re.compile(r"\b(?:touch(?:es|ed|ing)?|grab(?:s|bed|bing)?|hold(?:s|ing)?|pick(?:s|ed|ing)?\s+(?:it|them)?\s*up|"
                    r"pat(?:s|ted|ting)?|pet(?:s|ted|ting)?|hug(?:s|ged|ging)?|eat(?:s|ing)?|bite(?:s)?|lick(?:s|ed|ing)?)\b|"
                    r"碰|摸|抓|拿|抱|吃|咬|舔", re.I)
_PUBLIC_NOUNS_ZH = {"顾客", "客人", "行人", "路人", "游客", "乘客", "旅客", "香客", "观众", "粉丝", "学生", "居民", "村民", "市民",
                    "人们", "年轻人", "上班族",
                    "食客", "宾客", "来宾", "小朋友", "孩子", "同学", "队员", "球员", "选手", "员工"}
_ONE_RECIPIENT_ZH = re.compile(r"(?:递给|交给|送给|还给|端给|拿给|带给|传给|塞给|卖给|扶着|牵着|抱着|背着|给|帮|替|为)"
                               r"(?:一位|一个|这位|那位)?$")
# "给顾客发传单": handed out to many, not served to one
_HANDED_OUT_ZH = re.compile(r"^(?:们)?(?:发|派|分|散发|分发|递送)")
# COCO furniture named as the place of the action ("at a high table", "on a park bench", "坐在椅子上", "书桌前")
# is the setting: partly hidden by the people at or on it, often cut by the frame, of forms the detector
# was not trained on (a small round high table). These four have the lowest COCO AP of the furniture
# classes (about 0.2-0.3 against 0.4-0.6 for bed, couch, toilet, tv, refrigerator); big, distinctive
# fixtures (a bed, a sofa, a fridge) stay enforced.
_FURNITURE = {"dining table", "chair", "bench", "potted plant"}
_SETTING_BEFORE_EN = re.compile(r"(?<!\blooks\s)(?<!\blook\s)(?<!\blooking\s)(?<!\bstares\s)(?<!\bglances\s)(?<!\bpoints\s)"
                                r"\b(?:at|on|onto|upon|atop|by|beside|next\s+to|in\s+front\s+of|near|under|underneath|"
                                r"beneath|behind|against|around|across\s+from|in|into|on\s+top\s+of|close\s+to|up\s+to)"
                                r"\s+$", re.I)
# "桌面上", "桌子上": the surface or the word's 子 may come between the thing and the place word
_SETTING_AFTER_ZH = re.compile(r"(?:面|子)?(?:上|前|旁|边|下|里|后|附近|对面|周围|跟前)")
_SETTING_BEFORE_ZH = re.compile(r"(?:在|坐在|躺在|趴在|靠在|站在|蹲在|围在|到|往|靠着|倚着|围着|跳上|爬上|放在|摆在|搁在)"
                                r"(?:[^\s，。,]{0,6}的)?$")
# the furniture is what is shown or sold: "a dining table with four chairs, product shot", "沙发展示"
_PRODUCT_SHOT = re.compile(r"\b(?:product|showroom|showcase|catalog(?:ue)?|listing|for\s+sale|unboxing)\b|"
                           r"产品|商品|展示|展厅|家具|新款|样板间|上新|开箱", re.I)
# Indoors: gear a word implies ("a skier": skis; "a surfer": a surfboard) is used elsewhere
_INDOORS = re.compile(r"\b(?:in|inside|at|into)\s+(?:a|an|the|his|her|their|our)?\s*(?:[\w-]+\s+)?(?:lodge|cabin|chalet|"
                      r"caf[eé]|coffee\s+shop|bar|pub|restaurant|kitchen|living\s+room|bedroom|room|hotel|locker\s+room|"
                      r"changing\s+room|office|house|apartment|hut|tent|classroom|studio|bathroom|shower)\b|"
                      r"\b(?:at\s+home|indoors)\b|屋里|木屋|小屋|室内|家里|房间|咖啡馆|咖啡厅|酒店|更衣室|休息室|客厅|卧室|"
                      r"厨房|办公室|教室|浴室", re.I)
# A desk is read as a dining table (COCO has no desk), but detectors trained on COCO label desks
# unevenly (dining table, or nothing): the presence is recorded, not enforced.
_DESK = re.compile(r"\bdesks?\b|书桌|课桌|办公桌|电脑桌|写字台|写字桌|学习桌|工作桌", re.I)
_VAN = re.compile(r"\b(?:mini|camper\s?)?vans?\b|面包车|商务车|厢式货车|房车", re.I)
# A scooter may be a kick scooter (a child's, or a rental e-scooter), which COCO has no class for
_SCOOTER = re.compile(r"\b(?:e-)?scooters?\b", re.I)
# "calls her sister", "给妈妈打视频电话": the one called is at the other end, not in view
_CALLED_BEFORE_EN = re.compile(r"\b(?:calls?|called|calling|phones?|phoned|phoning|texts?|texted|texting|"
                               r"video[- ]?calls?|facetimes?|facetimed)\s+(?:up\s+)?(?:his|her|their|my|a|an|the)?\s*"
                               r"(?:[\w-]+\s+)?$", re.I)
_CALLED_AROUND_ZH = re.compile(r"(?:给|跟|和|与)$")
_CALL_AFTER_ZH = re.compile(r"(?:打|拨)(?:了|个|了个|通)?(?:视频)?(?:电话|视频)|视频通话|通电话|视频聊天|发(?:了)?(?:消息|微信|短信|语音)")
# "each with a skateboard", "人手一个": one each for a group, as many as the group
_EACH_BEFORE = re.compile(r"\b(?:each|every\s+one|all)\s+(?:of\s+them\s+)?(?:with|holding|carrying|has|have|holds|carries|"
                          r"gets|got|grabs|takes|on|riding|pushing|wearing)\s+(?:a|an|one|his|her|their|its)?\s*"
                          r"(?:[\w-]+\s+){0,2}$|每人|每个人|各自|人手|各(?:拿|抱|拎|背|提|带|牵|骑|推|举|端)着?(?:一\w)?$", re.I)
# The separators of a list ("西瓜、橙子和苹果", "cherries, grapes and plums")
_LIST_SEPARATOR = re.compile(r"、|和|及|与|,\s*(?:and\s+)?|\s+and\s+", re.I)
# "收拾碗筷": tableware comes in sets; the bowl's count is not one
_TABLEWARE_SET_ZH = re.compile(r"碗筷|碗碟|杯盘|餐具|锅碗瓢盆")
# "a plate of", "a bunch of", "一串", "一袋": a quantity given by what holds it, not a count
_MEASURE_BEFORE = re.compile(r"\b(?:plate|bowl|bag|basket|box|bunch|crate|pile|heap|handful|tray|bucket|jar|carton|punnet|"
                             r"platter|dish|sack|bundle|stack|pack|packet|cluster|bouquet|armful|cart|bin|barrel)s?\s+of\s+"
                             r"(?:[a-z-]+\s+)?$|[一两二三四五几][大小满整]?(?:串|袋|盘|筐|箱|堆|束|篮|盒|碟|兜|捆|簇|包|排)子?"
                             r"(?:[^\s，。,、]{0,3}的)?$",
                             re.I)
_BODY_PART_AFTER = re.compile(r"\s*(?:hands?|fingers?|wrists?)\b", re.I)
_BODY_PARTS = {"hand", "hands", "手", "wrist", "arm", "finger", "手腕", "手臂"}


@dataclass
class _Rule:
    confidence: float
    why: str
    floor: bool = False  # the count is the fewest in view: others of the class are normally there too


def decide(raw: Expectations, *, text: str, language: Language, mentions: list[Mention],
           introducing: list[Mention], unstated: list[Mention], absence: Absence,
           pronoun_person: bool, interaction_event: Event | None = None,
           time_clause: bool = False, time_spans: list[tuple[int, int]] = (),
           later_spans: list[tuple[int, int]] = ()) -> Expectations:
    """Split the rules' expectations into enforced and unchecked, with a confidence for each."""
    negated_actions = negated_action_spans(text, language, mentions)
    # a "before" clause may only say when ("before the guests arrive"): what only it names is unsure
    later = [(start, end, text[start:end]) for start, end in time_spans]
    unchecked: list[UncheckedExpectation] = []
    confidence: dict[str, float] = {}
    classes: dict[str, int] = {}
    at_least: dict[str, int] = {}
    for name, count in raw.classes.items():
        presence = _presence(name, introducing, negated_actions, pronoun_person, text, mentions)
        number = _count(name, count, text, introducing, unstated, pronoun_person)
        own, implying = _of_class(name, introducing)
        after_shot = [(start, end, text[start:end]) for start, end in later_spans]
        if name != "person" and own and all(_inside(m, after_shot) is not None for m in own):
            # "a boy drinks milk before he goes to bed": the bed belongs to an event that may not be shown
            presence = _Rule(min(presence.confidence, TIME_CLAUSE),
                             f"named only in what happens after the shot's action ('{_inside(own[0], after_shot)[2]}')")
        gone = [_inside(m, later) for m in own + implying]
        if own and all(span is not None and _GOES_AWAY.search(span[2]) for span in gone):
            # "主人出门以后，两只猫跳上餐桌", "After the last bus pulls away, ...": it has gone before the shot
            presence = _Rule(min(presence.confidence, TIME_CLAUSE),
                             f"named only in a clause saying it went away before ('{gone[0][2]}')")
        in_later = [m for m in own + implying if _inside(m, later) is not None]
        if in_later and len(in_later) < len(own + implying) and number.confidence > TIME_CLAUSE:
            # "Before her friend arrives, a girl tidies the room": the friend may not be there yet
            number = _Rule(TIME_CLAUSE, f"'{in_later[0].phrase}' is counted from a 'before'/'after' clause, which may only "
                                          "say when")
        view = _from_above(name, text)
        if view is not None:
            presence = _Rule(min(presence.confidence, FROM_ABOVE), view)
            number = _Rule(min(number.confidence, FROM_ABOVE), view)
        if min(presence.confidence, number.confidence) >= ENFORCE_CONFIDENCE:
            (at_least if number.floor else classes)[name] = count
            confidence[f"presence:{name}"] = presence.confidence
            confidence[f"count:{name}"] = number.confidence
            if number.floor:
                unchecked.append(UncheckedExpectation("count", name, f"exactly {count}", number.confidence, number.why))
            continue
        if presence.confidence >= ENFORCE_CONFIDENCE:
            # "Shoppers browse bicycles": surely there, in a number nobody wrote; QA checks
            # that they are seen and stay, not how many.
            at_least[name] = 1
            confidence[f"presence:{name}"] = presence.confidence
        else:
            unchecked.append(UncheckedExpectation("presence", name, "in view", presence.confidence, presence.why))
        unchecked.append(UncheckedExpectation("count", name, str(count), number.confidence, number.why))

    forbidden: list[str] = []
    for name in raw.forbidden:
        rule = _absence(name, text, mentions, absence, negated_actions)
        if rule.confidence >= ENFORCE_CONFIDENCE:
            forbidden.append(name)
            confidence[f"absent:{name}"] = rule.confidence
        else:
            unchecked.append(UncheckedExpectation("absent", name, "not in view", rule.confidence, rule.why))

    interaction, subjects = raw.interaction, raw.subjects
    if interaction is not None:
        rule = _interaction(interaction, subjects, raw.classes)
        unsure = [u.subject for u in unchecked if u.kind == "presence" and u.confidence < ENFORCE_CONFIDENCE
                  and u.subject in subjects[:2]]
        if unsure and rule.confidence >= ENFORCE_CONFIDENCE:
            rule = _Rule(min(UNCHECKABLE, rule.confidence), f"{interaction} with {unsure[0]}, which may not be in view")
        negated = _negated_event(interaction_event, negated_actions)
        if negated is None and interaction in ("enter", "leave"):
            negated = next((span[2] for span in negated_actions if _MOVE_IN_OUT.search(span[2])), None)
        if negated is None and interaction == "contact":  # "stares at the bowl but never touches it"
            negated = next((span[2] for span in negated_actions if _TOUCH.search(span[2])), None)
        if negated is not None:
            rule = _Rule(NEGATED_ACTION, f"the action is negated ('{negated}'): it may not happen at all")
        elif interaction == "leave" and _AWAY_ONLY.search(text) and not _GOES_OUT.search(text):
            rule = _Rule(WALKS_AWAY, f"'{_AWAY_ONLY.search(text).group(0)}' may stay in view, growing smaller; "
                                     "a leave is enforced only where the text says it goes out of the shot")
        elif time_clause:
            rule = _Rule(TIME_CLAUSE, "read from a 'before'/'after' clause ('before leaving', '客人离开后'), which may only "
                                        "say when the shot's action happens")
        if rule.confidence >= ENFORCE_CONFIDENCE:
            confidence[f"interaction:{interaction}"] = rule.confidence
        else:
            unchecked.append(UncheckedExpectation("interaction", " -> ".join(subjects) or "-", interaction,
                                                  rule.confidence, rule.why))
            interaction, subjects = None, ()
    return Expectations(classes=classes, at_least=at_least, interaction=interaction, subjects=subjects,
                        forbidden=tuple(forbidden), open_vocabulary=raw.open_vocabulary, unchecked=tuple(unchecked),
                        confidence=confidence)


def _from_above(name: str, text: str) -> str | None:
    """Why `name` may not be found in a shot the prompt says is seen from above, if it is one."""
    far = _FAR_ABOVE.search(text)
    near = _ABOVE.search(text) if name in _SEEN_AT_EYE_LEVEL else None
    if far is None and near is None:
        return None
    return (f"'{(far or near).group(0)}' is a view from above: detectors trained on eye-level photos often "
            f"miss a {name} seen from overhead")


def _of_class(name: str, introducing: list[Mention]) -> tuple[list[Mention], list[Mention]]:
    """The mentions that introduce `name` themselves, and those that imply it ("a cyclist")."""
    own = [m for m in introducing if m.coco == name]
    implying = [m for m in introducing if name in m.implies]
    return own, implying


def _inside(mention: Mention, spans: list[tuple[int, int, str]]) -> tuple[int, int, str] | None:
    return next((s for s in spans if s[0] <= mention.start and mention.end <= s[1]), None)


def _presence(name: str, introducing: list[Mention], negated_actions, pronoun_person: bool, text: str = "",
              mentions: list[Mention] = ()) -> _Rule:
    own, implying = _of_class(name, introducing)
    inside = _INSIDE_VEHICLE.search(text)
    if own and inside and all(inside.start() <= m.start < inside.end() + 1 for m in own):
        return _Rule(SETTING, f"'{inside.group(0)}': the shot is inside it, so it is the setting, not a thing in view")
    if own and name in ("train", "bus", "airplane", "boat", "car") and \
            all(_INSIDE_VEHICLE_ZH.match(text, m.end) or text[m.end - 1 : m.end + 1] in ("车厢", "机舱", "船舱")
                for m in own):
        return _Rule(SETTING, f"'{own[0].phrase}{text[own[0].end:own[0].end + 2]}': the shot is inside it, so it is "
                              "the setting, not a thing in view")
    setting = [m for m in own if _as_setting(m, text)]
    if name in _FURNITURE and own and len(setting) == len(own) and not _PRODUCT_SHOT.search(text):
        m = setting[0]
        before = _SETTING_BEFORE_EN.search(text[: m.start])
        said = text[before.start() : m.end] if before else text[max(0, m.start - 3) : m.end + 1]
        return _Rule(SETTING_FURNITURE, f"setting furniture: named as where the action happens ('{said.strip()}'); "
                                        "COCO detectors often miss it (partly hidden, unusual form)")
    if name == "motorcycle" and own and all(_SCOOTER.search(m.phrase) for m in own):
        return _Rule(NEAREST_CLASS, f"'{own[0].phrase}': a kick scooter or a motor scooter; COCO has only the motorcycle")
    if name == "car" and own and all(_VAN.search(m.phrase) for m in own):
        return _Rule(NEAREST_CLASS, f"'{own[0].phrase}': COCO has no van; detectors call one a car or a truck")
    if name == "dining table" and own and all(_DESK.search(m.phrase) for m in own):
        return _Rule(NEAREST_CLASS, f"'{own[0].phrase}': COCO has no desk; it is read as a dining table, which a "
                                    "detector may not call it")
    places = [found for m in own if name in _VEHICLE_CLASSES | _PUBLIC_VEHICLES
              and (found := _VEHICLE_PLACE_AFTER.match(text, m.end))]
    if own and len(places) == len(own):  # "outside the subway exit", "地铁口": a place named after the vehicle
        return _Rule(SETTING, f"'{own[0].phrase}{places[0].group(0)}' is a place, not the vehicle in view")
    riding = [m for m in own if _riding(m, text)]
    if name in _PUBLIC_VEHICLES and own and len(riding) == len(own):
        return _Rule(SETTING, f"'{text[max(0, own[0].start - 6) : own[0].end + 1].strip()}': riding it, the shot is "
                              "inside, so it is the setting, not a thing in view")
    awaited = [m for m in own if _AWAITING.search(text[max(0, m.start - 16) : m.start])]
    if own and len(awaited) == len(own):
        return _Rule(AWAITED, f"'{own[0].phrase}' is waited for ('{text[max(0, own[0].start - 6) : own[0].end]}'): "
                              "it may not be there yet")
    games = [m for m in own if name in _SMALL_IN_PLAY and _names_the_game(m, text)]
    if own and len(games) == len(own):
        return _Rule(IMPLIED_SMALL, f"'{games[0].phrase}' names the game ('{_game_phrase(games[0], text)}'), not a "
                                    "ball in view: small and fast in play, a COCO detector misses it in most frames")
    instead = [m for m in own if _INSTEAD_OF_BEFORE.search(text[max(0, m.start - 20) : m.start])]
    if own and len(instead) == len(own):  # "instead of the ball, the puppy brings back a stick"
        return _Rule(NEGATED_ACTION, f"'{instead[0].phrase}' is named as what is not there ('instead of')")
    elsewhere = [m for m in own if _elsewhere(m, text)]
    if own and len(elsewhere) == len(own):
        return _Rule(ELSEWHERE, f"'{elsewhere[0].phrase}' is named in a comparison or in what someone says: "
                                "it need not be in view")
    if name == "cup" and own and all(m.head == "glass" and _PANE_BEFORE.search(_before_head(m, text)) for m in own):
        return _Rule(DEPICTED, f"'{text[max(0, own[0].start - 8) : own[0].end]}': a pane of glass, not a drinking glass")
    depicted = [m for m in own if _DEPICTED_BEFORE.search(text[max(0, m.start - 30) : m.start])
                or _DEPICTED_AFTER.match(text, m.end)
                or name in _MADE_AS_CLASSES and _MADE_AS_BEFORE.search(_before_head(m, text))]
    if own and len(depicted) == len(own):  # "画了一只长颈鹿", "a poster of a tiger", "a cat on the TV"
        return _Rule(DEPICTED, f"'{depicted[0].phrase}' is a picture, a toy or on a screen, which a detector may "
                               "or may not take for the thing")
    if own and all(m.guessed for m in own):
        return _Rule(ROLE_SUFFIX, f"'{own[0].phrase}' is read as a person from the shape of the word")
    if own:
        outside = [m for m in own if _inside(m, negated_actions) is None]
        if not outside:
            span = _inside(own[0], negated_actions)
            return _Rule(NEGATED_ACTION, f"'{own[0].phrase}' is named only in a negated action ('{span[2]}'): "
                                         "it may or may not be in view")
        return _Rule(STATED, f"named: '{outside[0].phrase}'")
    indoors = _INDOORS.search(text)
    if implying and indoors is not None:
        return _Rule(IMPLIED_INDOORS, f"implied by '{implying[0].phrase}', but the scene is indoors ('{indoors.group(0)}'): "
                                      "the gear is used outside, not here")
    if implying and name in _SMALL_IN_PLAY:
        return _Rule(IMPLIED_SMALL, f"implied by '{implying[0].phrase}': small and fast in play, a COCO detector "
                                    "misses it in most frames")
    if implying:
        return _Rule(IMPLIED, f"implied by '{implying[0].phrase}'")
    if name == "person" and pronoun_person:
        return _Rule(PRONOUN, "a person read from a pronoun (he/she), never named")
    return _Rule(STATED, "named")


def _before_head(mention: Mention, text: str, reach: int = 12) -> str:
    """The text before `mention`'s noun, its own numeral and modifiers included ("两只用毛巾叠成的" of
    "两只用毛巾叠成的天鹅", "two towel " of "two towel swans")."""
    if re.search(r"[\u4e00-\u9fff]", mention.phrase):
        own = mention.phrase[: max(mention.phrase.rfind(mention.head), 0)]
    else:
        own = mention.phrase.rsplit(" ", 1)[0] + " " if " " in mention.phrase else ""
    return text[max(0, mention.start - reach) : mention.start] + own


def _elsewhere(mention: Mention, text: str) -> bool:
    """Named in a comparison ("than his son", "比篮球还大") or inside what someone says."""
    if _COMPARED_BEFORE.search(_before_head(mention, text, 40)):
        return True
    sentence = text[max(text.rfind(mark, 0, mention.start) for mark in ".!?;。！？；") + 1 : mention.start]
    if re.search(r"[\u4e00-\u9fff]", mention.phrase):
        said = list(_SAID_ZH.finditer(sentence))
        return bool(said) and "，" not in _SAID_GOES_ON_ZH.sub("", sentence[said[-1].end():]) \
            and "," not in sentence[said[-1].end():]
    said = list(_SAID_EN.finditer(sentence))
    if not said or re.search(r"\bthen\b", sentence[said[-1].end():], re.I):
        return False
    # what is said is a clause, with a verb of its own ("her first customer bought three suitcases");
    # "tells his son a story on the bed" says nothing happened elsewhere
    content = re.split(r"\bthen\b|[.;!?]", text[said[-1].end() :], maxsplit=1)[0].lower().split()
    if not any(word.strip(",'\"") in VERB_FORMS_EN for word in content):
        return False
    # who is spoken to is in view: "says goodbye to her grandma", "tells her mom"
    return not (_SPOKEN_TO.search(_before_head(mention, text, 4))
                or said[-1].group(0).lower() in ("tells", "tell", "told")
                and re.fullmatch(r"\s*(?:(?:the|a|an|his|her|their|my|our|your)\s+)?", sentence[said[-1].end():]))


def _riding(mention: Mention, text: str) -> bool:
    """"two friends chat on a train", "坐在公交车上": the people ride it (not "gets on the bus")."""
    if re.search(r"[\u4e00-\u9fff]", mention.phrase):
        return text[mention.end : mention.end + 1] in ("上", "里", "内") and bool(_RIDING_ZH.search(text[: mention.start]))
    found = next((r for r in _RIDING.finditer(text) if r.start("vehicle") < mention.end <= r.end()), None)
    return found is not None and not _BOARDING_BEFORE.search(text[: found.start()])


def _as_setting(mention: Mention, text: str) -> bool:
    """"stands at a high table", "on her bed", "坐在椅子上", "书桌前": the thing is named as where something happens."""
    if re.search(r"[\u4e00-\u9fff]", mention.phrase):
        return bool(_SETTING_AFTER_ZH.match(text, mention.end)) or bool(_SETTING_BEFORE_ZH.search(text[: mention.start]))
    return bool(_SETTING_BEFORE_EN.search(text[: mention.start]))


_SMALL_IN_PLAY = {"sports ball", "frisbee", "kite"}
_INSTEAD_OF_BEFORE = re.compile(r"\b(?:instead\s+of|rather\s+than)\s+(?:the|a|an|his|her|its|their)?\s*(?:[a-z-]+\s+)?$|"
                                r"(?:而不是|不是|代替|取代)$", re.I)
# "heavier than his four-year-old son", "比篮球还大": a thing compared with need not be in view
_COMPARED_BEFORE = re.compile(r"\bthan\s+(?:(?:the|a|an|his|her|their|its|my|our|your)\s+)?(?:[\w-]+\s+){0,3}$|比$", re.I)
# "tells the camera her first customer bought three suitcases", "说她老公昨天把车开去洗了": what is said
# happened elsewhere. It runs to the end of the sentence, or (in English) to a "then".
_SAID_EN = re.compile(r"\b(?:says?|said|tells?|told|explains?|recalls?|mentions?|claims?|complains?|brags?|boasts?|"
                      r"admits?|jokes?|reveals?)\b", re.I)
_SAID_ZH = re.compile(r"(?<![小听])说(?![话明着唱])|聊到|提到|吐槽|炫耀|告诉")
_SPOKEN_TO = re.compile(r"\bto\s+(?:(?:the|a|an|his|her|their|my|our|your)\s+)?(?:[\w-]+\s+)?$", re.I)
# A comma in Chinese ends what is said, unless the next clause carries on its reasoning
_SAID_GOES_ON_ZH = re.compile(r"，(?=所以|因为|结果|可是|但是|不过|于是)")
# "towel swans", "用毛巾叠成的天鹅", "a paper boat": a thing made to look like an animal or a vehicle
_MADE_AS_BEFORE = re.compile(r"\b(?:towel|paper|origami|balloon|sand|ice|chocolate|lego|clay|cardboard|cookie|"
                             r"snow|plush|stuffed|toy|inflatable|foam)\s+$|(?:叠成|折成|做成|堆成|捏成|拼成|扎成|剪成)的$", re.I)
_MADE_AS_CLASSES = {"bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe",
                    "car", "boat", "airplane", "train", "bus", "truck", "motorcycle", "bicycle", "person"}
# "pressing their noses to the glass": a window's pane, no drinking glass
_PANE_BEFORE = re.compile(r"\b(?:to|against|through|behind|on|onto|at|into)\s+the\s+$", re.I)
_GOES_AWAY = re.compile(r"\b(?:leaves?|left|leaving|gone|goes\s+(?:out|away|home)|drives?\s+(?:off|away)|pulls?\s+away|"
                        r"departs?|departed|exits?|exited)\b|开走|离开|出门|走后|走了|走掉|下班|驶离|离去|散去|回家", re.I)
_DEPICTED_BEFORE = re.compile(
    r"\b(?:drawing|picture|photo(?:graph)?|painting|poster|sketch|image|cartoon|print|statue|figurine|sticker|mural|"
    r"illustration|logo|toy|stuffed|plush|model)s?\s+of\s+(?:a|an|the|two|three|some)?\s*(?:[a-z-]+\s+)?$|"
    r"\b(?:draws?|drew|drawing|paints?|painted|painting|sketch(?:es|ed|ing)?|doodles?)\s+(?:a|an|the|two|three|some)?\s*"
    r"(?:[a-z-]+\s+)?$|(?:画了?|画出|画着|印着|印有|绣着)[一两三几]?[只个头条匹朵辆棵]?$", re.I)
_DEPICTED_AFTER = re.compile(r"\s*(?:(?:on|in)\s+(?:the|a|an|her|his|their)?\s*(?:tv|television|screen|monitor|poster|"
                             r"billboard|painting|photo|picture)\b|(?:图案|玩偶|玩具|模型|贴纸|照片|海报|印花|公仔|雕像|形状))",
                             re.I)
# "walks away (from the camera)": moving off, said with no way out of the shot
_AWAY_ONLY = re.compile(r"\b\w+(?:s|ed|ing)?\s+away(?:\s+from\s+(?:the\s+)?(?:camera|lens|viewer|us))?\b", re.I)
# a way out said: "leaves", "exits", "out of the frame", "off screen", "out the door", "left the room"
_GOES_OUT = re.compile(r"\b(?:leaves|leaving|left\s+(?:the|a|an|his|her)|exits?|exited|exiting|out\s+of|out\s+the|"
                       r"off[-\s](?:screen|camera|frame)|disappears?|vanish(?:es)?)\b|离开|走出|出去|出门|消失", re.I)
# "play basketball", "practising one-on-one basketball", "a game of football", "打篮球", "踢足球":
# the ball's name names the game. So does it before a word for the game or its place
# ("basketball practice", "the football pitch", "篮球场").
_PLAY_BEFORE_EN = re.compile(
    r"\b(?:play(?:s|ed|ing)?|practi[sc](?:e|es|ed|ing)|train(?:s|ed|ing)?|(?:game|match|round|bit) of)\s+"
    r"(?:(?:a|an|some|one-on-one|one-on-ones|pickup|pick-up|street|casual|friendly|indoor|outdoor|beach|"
    r"competitive|little|quick)\s+)*$", re.I)
_GAME_AFTER_EN = re.compile(
    r"\s*(?:game|games|match|matches|practice|practise|training|drills?|court|courts|pitch|field|hoop|hoops|net|"
    r"team|teams|club|league|session|lesson|camp|player|players|shoes|jersey|uniform)\b", re.I)
_PLAY_BEFORE_ZH = re.compile(r"(?:打|踢|玩|练|练习|一场|比赛)(?:一场|一会儿|一会|会儿|了|着|过)?$")
_GAME_AFTER_ZH = re.compile(r"(?:场|赛|比赛|训练|队|架|框|鞋|服)")


def _names_the_game(mention: Mention, text: str) -> bool:
    if re.search(r"[\u4e00-\u9fff]", mention.phrase):
        return bool(_PLAY_BEFORE_ZH.search(text[: mention.start])) or bool(_GAME_AFTER_ZH.match(text, mention.end))
    return bool(_PLAY_BEFORE_EN.search(text[: mention.start])) or bool(_GAME_AFTER_EN.match(text, mention.end))


def _game_phrase(mention: Mention, text: str) -> str:
    before = _PLAY_BEFORE_EN.search(text[: mention.start]) or _PLAY_BEFORE_ZH.search(text[: mention.start])
    after = _GAME_AFTER_EN.match(text, mention.end) or _GAME_AFTER_ZH.match(text, mention.end)
    return text[before.start() if before else mention.start : after.end() if after else mention.end].strip()


_PRONOUN_BEFORE = re.compile(r"\b(?:he|she|they|his|her|their)\b|他|她|它|他们|她们", re.I)


def _count(name: str, count: int, text: str, introducing: list[Mention], unstated: list[Mention],
           pronoun_person: bool) -> _Rule:
    """How sure the count of `name` is; a floor (`_Rule.floor`) where others of it are normally in view."""
    own, implying = _of_class(name, introducing)
    vague = [m for m in own or implying if m in unstated]
    if vague:
        return _Rule(UNSTATED, f"count not stated: '{vague[0].phrase}' names several without a number "
                               f"({count} is only the least)")
    if count > MAX_ENFORCED_COUNT:
        return _Rule(LARGE_COUNT, f"{count} of {name}: more than a detector counts steadily ({MAX_ENFORCED_COUNT})")
    theirs = next((m for m in own if name != "person" and _of_unnumbered_people(m, text, introducing, unstated)), None)
    if theirs:
        return _Rule(UNSTATED, f"'{theirs.phrase}': one each for people of no stated number")
    rule = _count_as_written(name, count, text, own, implying, pronoun_person)
    company = _in_company(name, text, own)
    if company is None:
        return rule
    return _Rule(rule.confidence, f"{rule.why}; {company} puts others in view: at least {count}, more being fine",
                 floor=True)


def _in_company(name: str, text: str, own: list[Mention]) -> str | None:
    """Why others of `name` are normally in view ("'busy traffic'", "'a waiter' (a trade serving others)"),
    or None: vehicles in traffic or a car park, boats in a harbour; people in a crowded or public
    place, named by a serving trade, or anywhere but a home or a close-up of hands; never where the
    text says they are alone or the only ones ("只停着一辆白色轿车"), or, for people, that the place
    is empty."""
    if any(_ONLY_BEFORE.search(text[max(0, m.start - 8) : m.start]) for m in own):
        return None
    if name != "person":
        full = next((found for place in _FULL_OF.get(name, ()) if (found := place.search(text))), None)
        return f"'{full.group(0)}'" if full is not None else None
    if EMPTY_PLACE_EN.search(text) or EMPTY_PLACE_ZH.search(text) or _NOBODY_ELSE.search(text):
        return None
    place = next((found for place in (CROWDS, PUBLIC_PLACES, _TRAFFIC) if (found := place.search(text))), None)
    if place is not None:
        return f"'{place.group(0)}'"
    trade = next((m for m in own if m.head.replace("_", " ").lower() in SERVING_TRADES), None)
    if trade is not None:
        return f"'{trade.phrase}' (a trade that serves or watches over others)"
    close_up = any(m.head in _BODY_PARTS or m.phrase.endswith("'s") and _BODY_PART_AFTER.match(text, m.end) for m in own)
    if PRIVATE_PLACES.search(text) is None and not close_up:  # "A man's hand picks up a cup": nobody else in frame
        return "an open setting (no home said)"
    return None


def _count_as_written(name: str, count: int, text: str, own: list[Mention], implying: list[Mention],
                      pronoun_person: bool) -> _Rule:
    sets = [m for m in own if _TABLEWARE_SET_ZH.search(text[max(0, m.start - 1) : m.end + 2])]
    if sets:
        return _Rule(UNSTATED, f"'{text[max(0, sets[0].start - 1) : sets[0].end + 2]}' names a set of tableware, "
                               "not a number")
    generations = [m for m in own if re.match(r"[三四五几]代", text[m.end : m.end + 2])]
    if generations:  # "祖孙三代": three generations, at least three people
        return _Rule(UNSTATED, f"'{generations[0].phrase}{text[generations[0].end : generations[0].end + 2]}': "
                               "several generations, a number of people not stated")
    elsewhere = next((m for m in own if _elsewhere(m, text)), None)
    if elsewhere:
        return _Rule(ELSEWHERE, f"'{elsewhere.phrase}' is named in a comparison or in what someone says")
    listed = next((m for m in own if _LISTED_AFTER_A_COUNT_ZH.search(text[max(0, m.start - 12) : m.start])
                   and not m.stated), None)
    if listed:
        return _Rule(UNSTATED, f"'{listed.phrase}' follows a counted item in a list, with no number of its own")
    called = next((m for m in own if _CALLED_BEFORE_EN.search(text[max(0, m.start - 24) : m.start])
                   or (_CALLED_AROUND_ZH.search(text[max(0, m.start - 1) : m.start]) and _CALL_AFTER_ZH.match(text, m.end))),
                  None)
    if called:
        return _Rule(UNSTATED, f"'{called.phrase}' is called or written to: at the other end, maybe not in view")
    each = next((m for m in own if _EACH_BEFORE.search(text[max(0, m.start - 30) : m.start])), None)
    if each:
        return _Rule(FROM_GROUP, f"'{each.phrase}': one each for a group, so as many as the group")
    measured = next(((m, found) for m in own if (found := _measure_before(text, m.start))), None)
    if measured:  # "a plate of broccoli", "一串香蕉": how many is not said
        mention, said = measured
        return _Rule(UNSTATED, f"'{said.group(0)}{mention.phrase}': a quantity by its container or measure, not a number")
    public = [m for m in own if m.head in _PUBLIC_NOUNS_ZH and not m.stated and not m.definite
              and (not _ONE_RECIPIENT_ZH.search(text[max(0, m.start - 6) : m.start])
                   or _HANDED_OUT_ZH.match(text[m.end : m.end + 3]))]
    if public:
        return _Rule(PUBLIC_NOUN_ZH, f"'{public[0].phrase}' has no number and Chinese marks no plural: one or "
                                     "several")
    grouped = [m for m in own if m.count_from_group]
    if grouped:  # "a family loads suitcases": four suitcases is no reading; "three riders, bicycles" is one each
        return _Rule(FROM_GROUP, f"'{grouped[0].phrase}' counted one each for the group before it: a guess")
    collective = [m for m in own if m.head in PAIR_NOUNS or m.head in GROUP_NUMBERS or _kin_group(m)]
    if collective:
        return _Rule(COLLECTIVE, f"count read from '{collective[0].phrase}'")
    if own and all(m.head in _BODY_PARTS for m in own):
        if any((m.count or 1) > 2 or re.match(r"(?:two|2|两|二)\s*(?:只|双)?", m.phrase, re.I) for m in own):
            return _Rule(UNSTATED, f"'{own[0].phrase}': one person's or two people's")
        return _Rule(BODY_PART, f"'{own[0].phrase}': one person's")
    if not (own or implying) and name == "person" and pronoun_person:
        return _Rule(PRONOUN, "one person, read from a pronoun")
    if not own and implying:
        return _Rule(IMPLIED, f"one each, implied by '{implying[0].phrase}'")
    return _Rule(STATED, f"count {count} as written")


def _of_unnumbered_people(mention: Mention, text: str, introducing: list[Mention], unstated: list[Mention]) -> bool:
    """Held by, or said to be of, people of no stated number in the same clause: "几个顾客举着手机",
    "游客们举着手机拍", "拖着行李箱的旅客" (a public noun after 的 names a kind of people, many)."""
    people = [p for p in introducing if p.coco == "person"
              and not re.search(r"[，。,.;；！？]", text[min(p.end, mention.end) : max(p.start, mention.start)])]
    holder = next((p for p in reversed(people) if p.end <= mention.start), None)
    if holder is not None and (holder in unstated or holder.count is None) \
            and _HOLDING_BEFORE.search(_before_head(mention, text, 16)):
        return True
    owner = next((p for p in people if p.start > mention.end and re.fullmatch(r"\w{0,2}的", text[mention.end : p.start])),
                 None)
    return owner is not None and (owner in unstated or owner.count is None
                                  or owner.head in _PUBLIC_NOUNS_ZH and not owner.stated)


_HOLDING_BEFORE = re.compile(r"\b(?:hold(?:s|ing)?|held|with|carry(?:ing)?|carries|wav(?:e|es|ing)|rais(?:e|es|ing)|"
                             r"clutch(?:es|ing)?|lift(?:s|ing)?)\s+(?:up\s+)?(?:(?:their|his|her|the|a|an)\s+)?(?:[\w-]+\s+)?$|"
                             r"(?:举着|拿着|捧着|端着|提着|拎着|背着|抱着|握着|牵着|推着|拿起|举起|掏出|拿出)$", re.I)
# "三个碗和勺子": the number counts the bowls; how many spoons is not said
_LISTED_AFTER_A_COUNT_ZH = re.compile(r"[一二两三四五六七八九十\d]+[个只件把张双条根杯瓶碗盘本台辆][^，。,、和]{1,6}(?:和|、|及|与)$")


def _measure_before(text: str, start: int) -> re.Match | None:
    """The measure a noun is counted by ("a plate of", "一串"), also where the noun is a later item of
    a list the measure heads ("一大盘切好的西瓜、橙子和苹果")."""
    before = text[max(0, start - 60) : start]
    found = _MEASURE_BEFORE.search(before[-24:])
    parts = _LIST_SEPARATOR.split(before)
    if found or len(parts) < 2 or parts[-1].strip():
        return found
    if any(len(part) > 16 or re.search(r"[，。,：:;；]", part) for part in parts[1:-1]):
        return None
    first = parts[0]  # the measure, then the first item's noun
    return next((found for cut in range(1, min(len(first), 16)) if (found := _MEASURE_BEFORE.search(first[:-cut][-24:]))),
                None)


def _kin_group(mention: Mention) -> bool:
    """"三兄妹", "爷孙俩", "一家三口", "a trio of musicians": the count is in a collective word."""
    return bool(re.search(r"[俩仨]$|[二两三四五六七八九十](?:个人|个|人|位)$|^[二两三四五六七八九十](?:兄|姐|姊)|一家|口之家|trio|quartet|pair|couple|duo|twin",
                          mention.phrase, re.IGNORECASE))


def _absence(name: str, text: str, mentions: list[Mention], absence: Absence, negated_actions) -> _Rule:
    acting = _NOBODY_USES.search(text) if name == "person" else None
    if acting is not None and all(w.lower() in acting.group(0).lower() for w in absence.nobody_words):
        # "长椅上没人坐": the bench is free; the park around it may not be empty ("the empty stadium" would say so)
        return _Rule(NEGATED_ACTION, f"'{acting.group(0)}' says nobody does it, not that nobody is in view")
    negated = [m for m in mentions if m.negated and m.coco == name]
    in_action = [m for m in negated if _inside(m, negated_actions) is not None]
    if negated and len(in_action) == len(negated):
        span = _inside(in_action[0], negated_actions)
        return _Rule(NEGATED_ACTION, f"the negation is of an action ('{span[2]}'), not of '{in_action[0].phrase}'")
    hedged = [m for m in negated if HEDGES.search(_negation_before(text, m))]
    if negated and len(hedged) == len(negated):
        return _Rule(HEDGED_ABSENCE, f"'{hedged[0].phrase}' is said to be almost absent, not absent")
    if negated:
        return _Rule(EXPLICIT_ABSENCE, f"ruled out: '{negated[0].phrase}'")
    if name == "person" and absence.nobody:
        words = [w for w in absence.nobody_words if not _hedged_word(text, w)]
        if not words:
            return _Rule(HEDGED_ABSENCE, f"'{absence.nobody_words[0]}' is hedged (almost nobody): a few may be there")
        strong = [w for w in words if not EMPTY_PLACE_ZH.fullmatch(w) and not EMPTY_PLACE_EN.fullmatch(w)]
        if strong:
            return _Rule(EXPLICIT_ABSENCE, f"nobody: '{strong[0]}'")
        return _Rule(EMPTY_PLACE, f"the place is said to be empty: '{absence.nobody_words[0]}'")
    return _Rule(EXPLICIT_ABSENCE, "ruled out")


def _negated_event(event: Event | None, negated_actions) -> str | None:
    """The negated action the interaction was read from ("does not touch the cake"), if it was."""
    if event is None:
        return None
    for mention in [event.patient, event.obj]:
        span = _inside(mention, negated_actions) if mention is not None else None
        if span is not None:
            return span[2]
    return None


def _negation_before(text: str, mention: Mention) -> str:
    """The words before the negation that reaches `mention` ("almost no" -> "almost ")."""
    found = list(re.finditer(r"\b(?:no|without|not)\b|没有|不要|没|无", text[: mention.start], re.IGNORECASE))
    return text[max(0, found[-1].start() - 12) : found[-1].start()] if found else ""


def _hedged_word(text: str, word: str) -> bool:
    at = text.find(word)
    return at >= 0 and bool(HEDGES.search(text[max(0, at - 12) : at]))


def _interaction(kind: str, subjects: tuple[str, ...], classes: dict[str, int]) -> _Rule:
    if kind in ("approach", "contact", "handover") and len(subjects) < 2:
        return _Rule(UNCHECKABLE, f"{kind} needs two subjects the detector knows; the plan has "
                                  f"{', '.join(subjects) or 'none'}")
    if kind in ("approach", "contact", "handover") and subjects[0] == subjects[1] and classes.get(subjects[0], 0) < 2:
        return _Rule(UNCHECKABLE, f"{kind} between two of {subjects[0]}, but the prompt names one "
                                  f"(a hand and its owner are one {subjects[0]})")
    if kind == "handover" and len(subjects) < 3:
        return _Rule(UNCHECKABLE, "handover needs the object handed over to be one the detector knows")
    return _Rule(INTERACTION, f"{kind} between {' and '.join(subjects[:2]) or 'the subjects'}")


AGREED_BY_MODEL = "read by the prompt extender and the rules alike"


def reconcile(model: Expectations, rules: Expectations) -> Expectations:
    """A prompt extender's expectations held to the rules: a rule the model and the rules planner
    both enforce is enforced (with the rules' confidence); one only the model reads is unchecked,
    since a model's reading carries no confidence of its own; one only the rules read stays
    unchecked too (the model rewrote the prompt, and its prompt is what is generated)."""
    unchecked: list[UncheckedExpectation] = []
    confidence: dict[str, float] = {}
    classes: dict[str, int] = {}
    at_least: dict[str, int] = {}
    for name, count in model.classes.items():
        if rules.classes.get(name) == count:
            classes[name] = count
            confidence[f"presence:{name}"] = rules.confidence.get(f"presence:{name}", STATED)
            confidence[f"count:{name}"] = rules.confidence.get(f"count:{name}", STATED)
            continue
        why = (f"only the prompt extender reads {count} x {name}" + (
            f"; the rules read {rules.classes[name]}" if name in rules.classes else ""))
        if name in rules.classes or name in rules.at_least:  # both read it there, in numbers that may differ
            # the fewest both readings agree on: the rules' floor where the model counts as many
            at_least[name] = min(count, rules.at_least.get(name, 1))
            confidence[f"presence:{name}"] = rules.confidence.get(f"presence:{name}", STATED)
            if at_least[name] > 1:
                confidence[f"count:{name}"] = rules.confidence.get(f"count:{name}", STATED)
        else:
            unchecked.append(UncheckedExpectation("presence", name, "in view", UNCHECKABLE, why))
        unchecked.append(UncheckedExpectation("count", name, str(count), UNCHECKABLE, why))
    forbidden = []
    for name in model.forbidden:
        if name in rules.forbidden:
            forbidden.append(name)
            confidence[f"absent:{name}"] = rules.confidence.get(f"absent:{name}", EXPLICIT_ABSENCE)
        else:
            unchecked.append(UncheckedExpectation("absent", name, "not in view", UNCHECKABLE,
                                                  f"only the prompt extender rules out {name}"))
    interaction, subjects = model.interaction, model.subjects
    if interaction is not None and (interaction, tuple(subjects[:2])) == (rules.interaction, tuple(rules.subjects[:2])):
        confidence[f"interaction:{interaction}"] = rules.confidence.get(f"interaction:{interaction}", INTERACTION)
    elif interaction is not None:
        unchecked.append(UncheckedExpectation("interaction", " -> ".join(subjects) or "-", interaction, UNCHECKABLE,
                                              "only the prompt extender reads this interaction"))
        interaction, subjects = None, ()
    return Expectations(classes=classes, at_least=at_least, interaction=interaction, subjects=tuple(subjects),
                        forbidden=tuple(forbidden), open_vocabulary=model.open_vocabulary, unchecked=tuple(unchecked),
                        confidence=confidence)


_ORDER_WORDS = re.compile(r"\b(?:before|after)\b|之前|以前|之后|以后|前，", re.IGNORECASE)


def with_order_note(expectations: Expectations, actions: list[str], text: str, language: Language) -> Expectations:
    """Record the order of events the planner read from "before"/"after" words (QA checks no order)."""
    from dataclasses import replace

    word = _ORDER_WORDS.search(text)
    joined = " -> ".join(actions)
    note = UncheckedExpectation("order", "actions", joined, ORDER,
                                f"event order read from '{word.group(0).strip('，') if word else 'before/after'}', "
                                "not the order of the text; QA does not check the order of actions")
    return replace(expectations, unchecked=expectations.unchecked + (note,))
