"""English verbs (base forms, with their inflections derived) and the characters that mark a
Chinese verb."""
from __future__ import annotations

import re

VERBS_EN = (
    "walk run jump dance sing play throw catch hand give pass toss hold carry pick put take grab hug kiss touch "
    "pet stroke shake wave smile laugh cry look turn sit stand lie sleep eat drink cook cut pour open close "
    "push pull ride drive fly swim climb fall roll spin chase follow approach enter leave exit go come move "
    "step roar bark meow fetch kick hit swing read write type paint draw wash clean brush comb blow sniff lick "
    "bite chew share offer receive accept deliver show present display rotate zoom pan glide float rise fade "
    "appear disappear emerge land sail row paddle surf ski skate wander stroll jog sprint hop skip leap crawl "
    "dive splash rest relax wait watch stare nod bow clap cheer celebrate fight wrestle play feed bring "
    "reach lift drop place set unbox unwrap pose sip bake slice stir fold tap press walks runs jumps does do "
    "animate react spin twirl gallop trot flap peck pounce purr wag tilt lean kneel crouch bounce shine "
    "sparkle orbit reveal stand sits looks turns smiles waves holds throws catches get make let try start "
    "begin keep stop continue sit lay smell hear listen talk speak shout whisper greet hide seek search "
    "find explore cross wipe serve drip melt grow bloom wake yawn stretch".split()
)


def verb_forms(bases: list[str]) -> set[str]:
    """Every spelling a base form may take (over-generating is harmless: only real words are looked up)."""
    forms = set()
    for verb in bases:
        forms |= {verb, verb + "s", verb + "es", verb + "ed", verb + "d", verb + "ing", verb[:-1] + "ing",
                  verb + verb[-1] + "ing", verb + verb[-1] + "ed", verb[:-1] + "ies", verb[:-1] + "ied"}
    return forms | {"ran", "threw", "caught", "gave", "took", "held", "went", "came", "sat", "stood", "fell",
                    "flew", "swam", "rode", "drove", "ate", "drank", "brought", "left", "shook", "put", "cut"}


VERB_FORMS_EN = verb_forms(VERBS_EN)

# One of these characters marks a clause as an action ("跑", "递"); a clause without one is a state.
VERB_CHARS_ZH = re.compile(
    r"[跑走跳飞游爬坐站躺睡吃喝看望笑哭唱玩扔抛接递给拿抱亲摸推拉骑开关打踢追转摇挥拍切倒煮做画写读洗刷梳吹闻舔咬"
    r"分享展示旋滑冲奔落升降飘浮出现消失进离靠拥握举放捧啃叼挖动舞弹端送交传捡抓跃奔驶划]"
)
