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
    "find explore cross wipe serve drip melt grow bloom wake yawn stretch meet "
    # more actions prompts are written with
    "slide dig gasp order chat toast clink chop unwrap wrap tug graze nap overtake tumble dip weave glide race "
    "pop lift spray carve drift hang assemble waddle splash hand pass dribble shoot score block dodge duck "
    "gallop slow speed accelerate brake park reverse honk steer pedal board unload load empty fill spill "
    "squeeze spread sprinkle season grill fry boil roast blend whisk knead mix taste bite "
    "nibble munch slurp gulp swallow sprinkle garnish plate apply dab spritz spritzes mist rub massage "
    "comb style curl braid dry wear button zip tie lace unlace buckle flip twist turn rotate tilt "
    "swivel slide glide hover soar dive plunge surface emerge sink float bob drift ripple crash break shatter "
    "burst explode ignite flicker glow shimmer glisten sparkle twinkle dance sway bob nod shrug wink blink "
    "frown grin giggle chuckle sob scream yell shout call answer text scroll swipe tap type click record film "
    "photograph snap capture livestream stream unbox review demonstrate showcase pitch model strut sashay "
    "pose parade march hike trek paddle row kayak canoe cycle bike skateboard snowboard sled surf skate "
    "exercise train lift stretch jog bounce dribble tackle chase catch fetch retrieve sniff dig bury wag "
    "pant lick nuzzle purr hiss pounce scratch claw groom perch peck flutter flap chirp sing hatch nest "
    "graze chew moo neigh trot canter buck charge wallow splash spray trumpet stomp prowl stalk lurk "
    "sneak tiptoe creep stumble trip slip fall collapse faint rise climb scale descend ascend kneel crouch "
    "squat bend bow curtsy salute applaud clap cheer hug cuddle kiss embrace greet welcome wave beckon "
    "point gesture signal nudge poke prod shove tug drag haul heave toss fling hurl lob pitch bowl serve "
    "volley spike smash hit strike punch kick knock bang tap drum strum pluck play perform sing rap recite "
    "read study write draw paint sketch sculpt carve knit sew stitch weave craft build fix repair assemble "
    "install plug charge open close lock unlock enter exit leave arrive depart land taxi dock moor "
    "anchor sail cruise wander roam explore discover inspect examine check test sample smell sniff inhale "
    "exhale breathe sigh laugh smile celebrate high-five fist-bump cheers drive ride clean sweep mop vacuum "
    "wash rinse scrub polish wipe dust tidy arrange fold stack pile sort pack unpack deliver ship mail "
    "sell buy pay shop browse pick choose select compare hold wave smoke vape sip chug pour drizzle dip "
    "dunk stir scoop ladle serve eat feed light add remove mix raise lower zip zips sprinkle plant water hail crack whisk beat flip "
    "toast swirl twirl spin shine sparkle reflect glint drip pour blink gaze peek peer glance smirk "
    "practise practice rehearse warm shoot".split()
)


def verb_forms(bases: list[str]) -> set[str]:
    """Every spelling a base form may take (over-generating is harmless: only real words are looked up)."""
    forms = set()
    for verb in bases:
        forms |= {verb, verb + "s", verb + "es", verb + "ed", verb + "d", verb + "ing", verb[:-1] + "ing",
                  verb + verb[-1] + "ing", verb + verb[-1] + "ed", verb[:-1] + "ies", verb[:-1] + "ied"}
    return forms | {"ran", "threw", "caught", "gave", "took", "held", "went", "came", "sat", "stood", "fell",
                    "flew", "swam", "rode", "drove", "ate", "drank", "brought", "left", "shook", "put", "cut"}


VERB_FORMS_EN = verb_forms(VERBS_EN) | {
    "slid", "dug", "spun", "swung", "hung", "shot", "struck", "lit", "bit", "hid", "led", "met", "sold", "bought",
    "caught", "taught", "fought", "sought", "wore", "tore", "swept", "slept", "wept", "kept", "knelt", "leapt",
    "sang", "rang", "drew", "grew", "blew", "threw", "knew", "broke", "spoke", "woke", "chose", "froze", "rose",
    "dove", "strode", "stuck", "dealt", "felt", "built", "sent", "spent", "bent", "lent", "won", "began",
    "is", "are", "was", "were", "has", "have", "had",
}

# One of these characters marks a clause as an action ("跑", "递"); a clause without one is a state.
VERB_CHARS_ZH = re.compile(
    r"[跑走跳飞游爬坐站躺睡吃喝看望笑哭唱玩扔抛接递给拿抱亲摸推拉骑开关打踢追转摇挥拍切倒煮做画写读洗刷梳吹闻舔咬"
    r"分享展示旋滑冲奔落升降飘浮出现消失进离靠拥握举放捧啃叼挖动舞弹端送交传捡抓跃奔驶划]"
    r"|[敷揭嫁娶竖挤萃拧晾嗑啄扇蹭捶锤砸泼捂遮擤嗅搭套披扎绑贴粘揽扑噘撅翘踮蹿窜夺争钓逃围灭烫晾织缝绣剃修补种摘采捞捕哄陪教练耍持买亮付伸倚停冒冻击刮削剥剪动卖卷取变叠叫叼吃吐吓吞听启吵吸吻呼响喂喊喷嗅嚼堆塌夹奏奔射尝庆弹录惊戴扑打扛扫扬扯扶找投抖折抬抹抽抿拆拉拌拍拖招拭拽拾挂指按挠振挽捏捡换掉掏掐揉揍提搂搅搬摆摊摔撒撕撞播擦收敲旋映晃晒望欢沉泊泡泼洒洗流浇浸涂涌淋淌渗游溅溜溢滑滚滴漂演潜炒炖炸烘烤烧焙煎照熄熬燃爆牵疾盯眨睁瞥瞧瞪碎磨祝穿立答绕缠翻聊脱腌荡落蒸藏融裂装裹讲试说谈赶越趴跨跪踢踩蹦蹬蹲躲躺转过追逗逛遛醒钻铺锁闪闭问闹降震露靠颤飞驰驶驾鸣鼓撑]"
)
