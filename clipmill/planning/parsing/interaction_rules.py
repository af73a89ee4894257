"""The interaction rules: verb patterns, each naming the interaction it shows, its priority
and the frame handler (`frames.FRAMES`) that finds who takes part; and the pronoun and
"one of them" patterns the handlers resolve.

A rule is (interaction kind, priority, pattern, frame). The lower the priority, the more
specific the interaction: QA checks the most specific one a prompt names.
"""
from __future__ import annotations

import re

from clipmill.planning.lexicon import ZH_CLASSIFIERS

Rule = tuple[str, int, re.Pattern, str]


def _alternation(*verbs: str) -> str:
    return "|".join(sorted({v for verb in verbs for v in verb.split()}, key=len, reverse=True))


_MOTION_EN = _alternation(
    "walk walks walked walking run runs ran running move moves moved moving go goes went going head heads headed "
    "heading rush rushes rushed rushing dash dashes dashed dashing hurry hurries hurried hurrying jog jogs jogged "
    "jogging sprint sprints sprinted sprinting stroll strolls strolled strolling crawl crawls crawled crawling "
    "fly flies flew flying swim swims swam swimming trot trots trotted trotting gallop gallops galloped galloping "
    "drive drives drove driving come comes came coming step steps stepped stepping waddle waddles waddled "
    "waddling bound bounds bounded bounding leap leaps leaped leapt hop hops hopped hopping climb climbs climbed "
    "climbing jump jumps jumped jumping get gets got getting sneak sneaks sneaked snuck wander wanders wandered "
    "race races raced racing"
)
_GIVE_EN = _alternation(
    "hand hands handed handing give gives gave giving pass passes passed passing throw throws threw throwing "
    "toss tosses tossed tossing offer offers offered offering deliver delivers delivered delivering kick kicks "
    "kicked kicking roll rolls rolled rolling slide slides slid sliding bring brings brought bringing lob "
    "lobs lobbed lobbing serve serves served serving"
)
_RECEIVE_EN = _alternation(
    "receive receives received receiving take takes took taking accept accepts accepted accepting grab grabs "
    "grabbed grabbing catch catches caught catching get gets got getting"
)
_CONTACT_ACTIVE_EN = _alternation(
    "hug hugs hugged hugging embrace embraces embraced embracing kiss kisses kissed kissing touch touches "
    "touched touching pet pets petted petting stroke strokes stroked stroking pat pats patted patting cuddle "
    "cuddles cuddled cuddling lick licks licked licking nuzzle nuzzles nuzzled nuzzling high-five high-fives "
    "high-fived tickle tickles tickled tackle tackles tackled lift lifts lifted lifting push pushes pushed "
    "pushing pull pulls pulled pulling"
)
_CONTACT_STATE_EN = _alternation("hold holds held holding carry carries carried carrying")
_RIDE_EN = _alternation("ride rides rode riding")

# priority: the most specific interaction a prompt names is what QA should check
RULES_EN: list[Rule] = [
    # "shake hands", "hold hands" are contact, not a hand-over
    ("handover", 0, re.compile(rf"(?<!shake )(?<!shakes )(?<!shook )(?<!shaking )(?<!hold )(?<!holds )(?<!held )"
                               rf"(?<!holding )\b(?:{_GIVE_EN})\b(?:\s+over)?", re.I), "give"),
    ("handover", 0, re.compile(rf"\b(?:{_RECEIVE_EN})\b(?P<mid>.*?)\bfrom\b", re.I), "receive_from"),
    ("catch", 0, re.compile(r"\b(?:catch|catches|caught|catching)\b", re.I), "catch"),
    # taken from someone's hands: with no throw before it, the giver is whoever was there first
    ("taken", 0, re.compile(r"\b(?:receive|receives|received|receiving|accept|accepts|accepted|accepting)\b", re.I),
     "taken"),
    ("contact", 1, re.compile(r"\b(?:shakes?|shook|shaking|holds?|held|holding)\s+hands\b", re.I), "with_or_group"),
    ("contact", 1, re.compile(
        r"\b(?:plays?|played|playing|dances?|danced|dancing|wrestles?|wrestled|wrestling)\s+(?:together|with)\b",
        re.I), "after_or_group"),
    ("contact", 1, re.compile(rf"\b(?:{_CONTACT_ACTIVE_EN}|picks?\s+up|picked\s+up|picking\s+up)\b", re.I),
     "after_or_group"),
    ("approach", 2, re.compile(
        rf"\b(?:{_MOTION_EN})\s+(?:\w+ly\s+)?(?:over\s+|up\s+|straight\s+|back\s+)?(?:towards?|to|up\s+to|"
        rf"over\s+to)\b", re.I), "after"),
    # "walks across the tarmac toward his plane": a path phrase may come between the move and its goal
    ("approach", 2, re.compile(rf"\b(?:{_MOTION_EN})\b(?:\s+(?!and\b|then\b)[\w'-]+){{1,5}}?\s+towards?\b", re.I),
     "after"),
    ("approach", 2, re.compile(
        r"\b(?:approach(?:es|ed|ing)?|chases?|chased|chasing|follows?|followed|following|(?:comes?|came|coming|"
        r"gets?|got|getting|moves?|moved|moving)\s+closer\s+to|reaches|reached|reaching|joins?|joined|joining)\b",
        re.I), "after"),
    ("enter", 3, re.compile(rf"\b(?:enters?|entered|entering|(?:{_MOTION_EN})\s+(?:into|in(?=\s*(?:[,.;!?]|$)))|(?:gets?|got|getting|"
                            rf"hops?|hopped|climbs?|climbed)\s+on(?:to)?\b|board(?:s|ed|ing)?\b)", re.I),
     "after_optional"),
    ("leave", 4, re.compile(
        rf"\b(?:(?<!of )(?<!the )(?<!fallen )(?<!autumn )(?<!dry )(?<!green )(?<!tea )(?<!of red )leaves|leaving|"
        rf"left\s+(?=the|a|an|his|her)|exits?|exited|exiting|(?:{_MOTION_EN})\s+"
        rf"(?:out\s+of|out|away\s+from|away|off))\b", re.I), "after_optional"),
    # a couple dancing holds each other: contact within the group that dances
    ("contact", 5, re.compile(r"\b(?:dance|dances|danced|dancing|waltz|waltzes|waltzed|tango|tangos)\b(?!\s+(?:on|across|in\s+front))",
                              re.I), "with_or_group"),
    ("contact", 5, re.compile(rf"\b(?:{_RIDE_EN})\b", re.I), "ride"),
    ("contact", 5, re.compile(rf"\b(?:{_CONTACT_STATE_EN})\b", re.I), "after"),
]

RULES_ZH: list[Rule] = [
    ("handover", 0, re.compile(r"[把将](?P<obj>[^，。]{1,12}?)(?:递给|交给|传给|扔给|抛给|送给|丢给|踢给|拿给|端给|带给|还给|塞给|卖给|喂给|递到|给)(?P<rest>.*)"),
     "zh_ba"),
    # "小狗把球叼到主人面前": brought into someone's reach is handed to them
    ("handover", 0, re.compile(r"[把将](?P<obj>[^，。]{1,12}?)(?:叼|带|拿|送|端|推|踢|滚|扔|递|放)(?:到|至|在)"
                               r"(?P<rest>[^，。]{1,10}?(?:面前|跟前|身边|手里|手中|手上|脚边|脚下|怀里))"), "zh_ba"),
    ("handover", 0, re.compile(r"从(?P<giver>[^，。]{1,12}?)(?:手中|手里|那里|那儿|处)?(?:接过|拿过|拿走|接住|收下)"),
     "receive_from_zh"),
    ("handover", 0, re.compile(r"(?:递给|交给|传给|扔给|抛给|送给|丢给|踢给|拿给|端给|带给|还给|塞给|卖给)(?P<rest>.*)"),
     "zh_give_to"),
    ("handover", 0, re.compile(r"给(?P<recipient>[^，。]{1,10}?)(?:递|送|拿|端)(?:了|过去|过来|上)?(?P<rest>.*)"),
     "zh_gei"),
    # "互相传递一个排球", "互相传球": a hand-over within the group, back and forth
    # (snowballs and water balloons are thrown at each other, not passed)
    ("handover", 0, re.compile(r"(?:互相|相互|来回|彼此)(?:传递|传|递|抛|扔|踢|交换)(?!雪球|水球|水枪|枕头|泥巴|水)(?P<rest>.*)"),
     "zh_mutual"),
    ("give", 0, re.compile(r"(?:递出|递过|递|扔出|扔|抛出|抛|丢|踢|传)(?P<rest>.*)"), "give_pending_zh"),
    ("taken", 0, re.compile(r"(?:接过|收下|接下|收到|拿过)"), "taken"),
    ("catch", 0, re.compile(r"(?:接住|接到|拿到|接)"), "catch"),
    ("contact", 1, re.compile(r"(?:和|与|跟|同)(?P<partner>[^，。在]{1,10}?)(?:一起)?(?:玩耍|玩|拥抱|握手|击掌|牵手|贴贴|依偎)"),
     "zh_with"),
    ("contact", 1, re.compile(r"(?:拿起|捡起|举起|抓起|端起|提起|拎起|拥抱|抱住|抱起|抱了抱|搂住|亲吻|亲了亲|亲|触碰|触摸|碰了碰|碰|抚摸|摸了摸|摸|握手|击掌|"
                              r"牵手|依偎|蹭|舔|拍了拍|拍拍|轻拍|挠|抱)"), "after_or_group"),
    ("approach", 2, re.compile(r"(?:朝|向|往)(?P<target>[^，。]{1,10}?)(?:走|跑|飞|游|爬|奔|冲)"), "zh_toward"),
    ("approach", 2, re.compile(r"(?:走向|跑向|奔向|冲向|飞向|游向|扑向|爬向|靠近|接近|走近|凑近|追赶|追逐|追着|追|走到|跑到|"
                               r"来到|飞到|游到)"), "after"),
    ("enter", 3, re.compile(r"(?:上车|上了车|钻进车里|坐进车里)"), "zh_vehicle"),
    ("leave", 4, re.compile(r"(?<!地)(?:下车|下了车|走下车)(?![库位场])"), "zh_vehicle"),
    ("enter", 3, re.compile(r"(?:走进|跑进|冲进|飞进|钻进|跳进|游进|进入|走入|进了|坐进|爬进|开进|驶入|驶进|开入|进门|进屋|入画)"),
     "after_optional"),
    ("leave", 4, re.compile(r"(?:离开|走出|跑出|飞出|冲出|爬出|钻出|走开|跑开|飞走|跑走|走掉|开走|驶出|驶离|出门|出画)"),
     "after_optional"),
    ("contact", 5, re.compile(r"(?:抱着|骑着|骑上|骑|牵着|举着|拿着|捧着)"), "after"),
]
PRONOUN_RE = {
    "en": re.compile(r"\b(it|him|her|them|each other|one another|together)\b", re.I),
    "zh": re.compile(r"(它们|他们|她们|它|他|她|对方|彼此)"),
}
GROUP_PRONOUNS = {"them", "each other", "one another", "together", "它们", "他们", "她们", "对方", "彼此"}
GROUP_MEMBER_RE = {
    "en": re.compile(r"^(?:the\s+other(?:\s+one)?|another(?:\s+one)?|one(?:\s+of\s+them)?)\b", re.I),
    "zh": re.compile(rf"^(?:另一|另外一|其中一|一)[{ZH_CLASSIFIERS}]"),
}
