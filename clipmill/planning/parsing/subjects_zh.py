"""Chinese subjects: every noun the lexicon knows (longest match first), widened left over
its numeral and classifier ("两只"), demonstrative ("这") or description ("棕色的")."""
from __future__ import annotations

import re

from clipmill.planning.lexicon import PAIR_NOUNS, ZH_CLASSIFIERS, ZH_DIGITS, ZH_VAGUE, Entry, group_count, lexicon_zh
from clipmill.planning.lexicon.compounds import CONTAINER_CLASSIFIERS_ZH, WINE_WORDS_ZH
from clipmill.planning.parsing.records import Mention

_NUMERAL_RE = re.compile(
    rf"(?P<other>另一|另外一|其中一)?(?P<demonstrative>[这那该])?(?P<number>[一二两三四五六七八九十\d]+|几|数|俩|仨)?"
    rf"(?P<classifier>[{ZH_CLASSIFIERS}])"
)
_NUMERAL_BEFORE = re.compile(rf"[一二两三四五六七八九十\d几][{ZH_CLASSIFIERS}]$")
_DESCRIBED_RE = re.compile(r"[^，。！？、；,.!?\s把被给向在和与跟同到从对朝往了着过是递扔抛接]{1,6}的$")
_PERSON_COUNT_RE = re.compile(r"(?:[一二两三四五六七八九十]|俩|仨)$")

# (start, count, definite, another) of a mention, from the words before its noun
Reading = tuple[int, int | None, bool, bool]


def mentions_zh(text: str) -> list[Mention]:
    lexicon = lexicon_zh()
    longest = max(len(word) for word in lexicon)
    lowered = text.lower() if len(text.lower()) == len(text) else text  # "SUV" is looked up as "suv"
    mentions: list[Mention] = []
    i = 0
    while i < len(text):
        word = _longest_word_at(lowered, i, lexicon, longest)
        if word is None:
            i += 1
            continue
        entry = lexicon[word]
        if entry is None:
            i += len(word)
            continue
        if text[i + len(word) : i + len(word) + 1] in _SHOP_SUFFIXES and entry.coco != "person":
            i += len(word) + 1  # "奶茶店", "手机店", "咖啡馆": a place named after what it sells
            continue
        mention = _mention_at(text, i, i + len(word), entry, mentions)
        mentions.append(mention)
        i = mention.end
    mentions = _with_role_words(text, mentions)
    return _with_vehicles(text, _with_kin_groups(text, _with_families(text, _with_containers(
        text, _merged(text, _not_compounds(text, mentions))))))


# Trades the word list does not know, by their last character: "学员", "讲解员", "陶艺师" are people.
# Only 员 and 师, whose words are nearly all people ("师傅" is one too; "教师节", "师范" are not).
_ROLE_WORD_ZH = re.compile(r"(?P<word>[\u4e00-\u9fff]{1,2}[员师])(?![傅范节资生])")
_NOT_ROLE_START_ZH = set("的在把给向和与跟同是了着过一二两三四五六七八九十几个位名只群些这那每各被让叫对从到为及或请")


def _with_role_words(text: str, mentions: list[Mention]) -> list[Mention]:
    added = []
    for found in _ROLE_WORD_ZH.finditer(text):
        start, end = found.start(), found.end()
        while end - start > 2 and text[start] in _NOT_ROLE_START_ZH:
            start += 1
        if end - start < 2 or text[start] in _NOT_ROLE_START_ZH:
            continue
        if any(m.start < end and start < m.end for m in mentions + added):
            continue
        mention = _mention_at(text, start, end, Entry(text[start:end], "person", False), mentions + added)
        mention.guessed = True
        added.append(mention)
    return sorted(mentions + added, key=lambda m: (m.start, not m.counted_only))


_SHOP_SUFFIXES = tuple("店馆铺摊厅场")  # "篮球场": a court, no ball
# Birds seen in flocks: with no number ("喂鸽子", "海鸥在飞"), more than one (QA's unstated count,
# with a warning that says so); "一只鸽子" is one.
_FLOCK_NOUNS_ZH = {"鸽子", "白鸽", "海鸥", "麻雀", "大雁", "候鸟", "鸭子", "野鸭", "小鸭子", "小鸭"}
_DRIVING_RE = re.compile(r"(?P<verb>开|驾|驾驶|骑)(?:着)?(?P<noun>车)(?![库位厢])")


def _with_vehicles(text: str, mentions: list[Mention]) -> list[Mention]:
    """"爸爸开车", "骑车上学": the verb names the vehicle (a car; a bicycle for 骑)."""
    added = []
    for found in _DRIVING_RE.finditer(text):
        if any(m.start <= found.start("noun") < m.end for m in mentions):
            continue
        coco = "bicycle" if found.group("verb") == "骑" else "car"
        start = found.start("noun")
        added.append(Mention(start, start + 1, "车", "车" if coco == "car" else "单车", coco, 1))
    return sorted(mentions + added, key=lambda m: (m.start, not m.counted_only))


# Words that, right after a noun the detector knows, name an accessory, a home or a picture of it
# ("狗窝", "猫爬架", "手机支架", "小熊图案", "公交站"): the first noun only says what it is for.
_COMPOUND_HEADS_ZH = ("窝", "粮", "绳", "链", "笼", "屋", "舍", "头盔", "座椅套", "座套", "椅套", "支架", "爬架", "壳",
                      "膜", "图案", "印花", "玩偶", "公仔", "造型", "形状", "模型", "玩具", "贴纸", "钥匙扣", "挂件",
                      "充电器", "抱枕", "靠垫", "零食", "罐头", "标志", "logo", "LOGO", "主题", "套")
# Food named after the animal: "牛肉面", "鸡汤", "羊肉串" show no cow, hen or sheep.
_FOOD_HEADS_ZH = ("肉", "腩", "丸", "排", "扒", "汤", "柳", "杂", "粥")
_VERB_LIKE_HEADS_ZH = ("套", "站")  # "女孩套上外套", "男孩站在": after these, 上/在/着 make them verbs
_VEHICLE_STOPS_ZH = ("站", "站台", "站牌")  # "公交站", "火车站": where it stops, not the vehicle
_VERB_AFTER_ZH = tuple("上着住在了起进出过到下立满")  # "女孩套上外套", "男孩站在": the word is a verb


def _not_compounds(text: str, mentions: list[Mention]) -> list[Mention]:
    """"狗窝" is no dog, "汽车座椅套" neither car nor chair: drop a noun an accessory word follows."""
    kept = []
    starts = {m.start: m for m in mentions}
    for mention in mentions:
        rest = text[mention.end : mention.end + 4]
        head_noun = starts.get(mention.end)
        if mention.coco is not None and mention.coco != "person" and not mention.animate \
                and head_noun is not None and head_noun.coco != "person" and not head_noun.animate:
            continue  # "电脑桌", "蛋糕刀", "手机屏幕": a thing right before another names what the second is for
        foods = _FOOD_HEADS_ZH if mention.animate and mention.coco != "person" else ()
        head = next((h for h in _COMPOUND_HEADS_ZH + _VEHICLE_STOPS_ZH + foods if rest.startswith(h)), None)
        if head in _VEHICLE_STOPS_ZH and mention.coco not in ("bus", "train", "car", "truck"):
            head = None
        if head in _VERB_LIKE_HEADS_ZH and rest[1:2] in _VERB_AFTER_ZH:
            head = None
        if mention.coco is not None and head is not None:
            continue
        kept.append(mention)
    return kept


# Family words that, side by side, are two people ("爷爷奶奶", "爸爸妈妈"), not one described twice.
_KIN_ZH = {"爷爷", "奶奶", "外公", "外婆", "姥姥", "姥爷", "爸爸", "妈妈", "爸", "妈", "父亲", "母亲", "叔叔", "阿姨",
           "哥哥", "姐姐", "弟弟", "妹妹", "舅舅", "姑姑", "丈夫", "妻子", "老公", "老婆", "儿子", "女儿", "孙子", "孙女"}


def _merged(text: str, mentions: list[Mention]) -> list[Mention]:
    """"网红小姐姐", "金毛小狗": two nouns of one class side by side name one subject."""
    merged: list[Mention] = []
    for mention in mentions:
        previous = merged[-1] if merged else None
        if previous is not None and previous.end == mention.start and previous.coco is not None \
                and previous.coco == mention.coco and mention.head != "手" \
                and not (previous.head in _KIN_ZH and mention.head in _KIN_ZH):  # "爷爷奶奶": two people
            count = previous.count if previous.stated else mention.count
            if (previous.head in PAIR_NOUNS or mention.head in PAIR_NOUNS) and count is not None:
                count = max(count, previous.count or 0, mention.count or 0)  # "双胞胎兄弟": two
            merged[-1] = Mention(previous.start, mention.end, text[previous.start : mention.end], mention.head,
                                 mention.coco, count, previous.definite, previous.another, stated=previous.stated,
                                 implies=previous.implies + mention.implies)
        else:
            merged.append(mention)
    return merged


_FAMILY_RE = re.compile(r"(?:一家|全家)(?P<number>[二两三四五六七八九十])口|(?P<number2>[二两三四五六七八九十])口之家")


def _with_families(text: str, mentions: list[Mention]) -> list[Mention]:
    """"一家三口", "三口之家": that many people."""
    added = []
    for found in _FAMILY_RE.finditer(text):
        if any(m.start < found.end() and found.start() < m.end for m in mentions):
            continue
        number = _zh_number(found.group("number") or found.group("number2"))
        added.append(Mention(found.start(), found.end(), found.group(0), "一家人", "person", number, stated=True))
    return sorted(mentions + added, key=lambda m: (m.start, not m.counted_only))


_KIN_WORDS_ZH = "兄弟姐妹|兄妹|姐妹|兄弟|姐弟|姊妹"
_KIN_NUMBER_RE = re.compile(rf"(?<![一二两三四五六七八九十\d])(?P<number>[二两三四五六七八九十])(?P<kin>{_KIN_WORDS_ZH})")
_KIN_PAIR_RE = re.compile(r"(?P<kin>爷孙|祖孙|奶孙|婆孙|母女|母子|父子|父女|兄妹|姐妹|兄弟|姐弟|夫妻|师徒|婆媳|闺蜜|"
                          r"姐妹|哥|姐|娘|爷|妹|弟)(?P<n>俩|仨)")


# "姐妹两个", "兄弟三人", "夫妻二人": the number said after the kin word
_KIN_THEN_NUMBER_RE = re.compile(r"(?P<kin>爷孙|祖孙|奶孙|婆孙|母女|母子|父子|父女|兄弟姐妹|兄妹|姐妹|兄弟|姐弟|姊妹|夫妻|夫妇|"
                                 r"师徒|婆媳|闺蜜|好友|朋友|同学|伙伴)(?P<number>[二两三四五六七八九十])(?:个人|个|人|位)")


_MEN_AND_WOMEN_RE = re.compile(r"(?P<men>[一二两三四五六七八九十])(?:个|位|名)?男(?:人|生|孩|子)?"
                               r"(?P<women>[一二两三四五六七八九十])(?:个|位|名)?女(?:人|生|孩|子)?(?P<kin>)")


def _with_kin_groups(text: str, mentions: list[Mention]) -> list[Mention]:
    """"三兄妹" are three, "爷孙俩" two, "姐妹仨" three: the number is said with the kin word."""
    found = [(m, _zh_number(m.group("number"))) for m in _KIN_NUMBER_RE.finditer(text)]
    found += [(m, (_zh_number(m.group("men")) or 0) + (_zh_number(m.group("women")) or 0))
              for m in _MEN_AND_WOMEN_RE.finditer(text)]  # "一男一女", "两男一女"
    found += [(m, 2 if m.group("n") == "俩" else 3) for m in _KIN_PAIR_RE.finditer(text)]
    found += [(m, _zh_number(m.group("number"))) for m in _KIN_THEN_NUMBER_RE.finditer(text)]
    added = []
    for match, number in found:
        inside = [m for m in mentions if m.start < match.end() and match.start() < m.end and m.coco == "person"]
        if inside:
            first = inside[0]
            first.start, first.end = min(first.start, match.start()), max(first.end, match.end())
            first.phrase, first.count, first.stated = text[first.start : first.end], number, True
            continue
        if any(m.start < match.end() and match.start() < m.end for m in mentions):
            continue
        added.append(Mention(match.start(), match.end(), match.group(0), match.group("kin"), "person", number,
                             stated=True))
    return sorted(mentions + added, key=lambda m: (m.start, not m.counted_only))


_CONTAINER_RE = re.compile(rf"(?P<number>[一二两三四五六七八九十\d]+|几)(?P<classifier>[{''.join(CONTAINER_CLASSIFIERS_ZH)}])")


def _with_containers(text: str, mentions: list[Mention]) -> list[Mention]:
    """"两杯红酒" are two wine glasses, "一瓶香水" a bottle, "一碗汤" a bowl: the classifier is
    the container the detector sees, whatever is in it."""
    added = []
    for found in _CONTAINER_RE.finditer(text):
        content = next((m for m in mentions if m.start <= found.end() <= m.end or m.start == found.end()), None)
        if content is not None and content.coco is not None:
            continue  # "一杯咖啡杯", "一瓶矿泉水": the noun already names the container
        coco = CONTAINER_CLASSIFIERS_ZH[found.group("classifier")]
        if coco == "cup" and text[found.end():].startswith(WINE_WORDS_ZH):
            coco = "wine glass"
        rough = found.group("number") == "几" or _ONE_AFTER_ANOTHER_RE.match(text, found.start())  # "一杯杯"
        count = None if rough else _zh_number(found.group("number"))
        phrase = text[found.start() : content.end] if content is not None else found.group(0)
        head = {"杯": "杯子", "瓶": "瓶子", "碗": "碗"}[found.group("classifier")]
        added.append(Mention(found.start(), found.end(), phrase, head, coco, count,
                             stated=True, counted_only=content is not None))
    return sorted(mentions + added, key=lambda m: (m.start, not m.counted_only))  # the container first


def _longest_word_at(text: str, i: int, lexicon: dict, longest: int) -> str | None:
    for length in range(min(longest, len(text) - i), 0, -1):
        if text[i : i + length] in lexicon:
            return text[i : i + length]
    return None


def _mention_at(text: str, i: int, end: int, entry: Entry, mentions: list[Mention]) -> Mention:
    plural = text[end : end + 1] == "们" or (text[end : end + 2] in ("陆续", "纷纷", "一一", "个个")
                                            and not _NUMERAL_BEFORE.search(text[max(0, i - 3) : i]))
    if text[end : end + 1] == "们":
        end += 1
    boundary = max([m.end for m in mentions] + [_last_break(text, i)])
    before = text[boundary:i]
    numeral = None
    for numeral in _NUMERAL_RE.finditer(before):
        pass
    # "观众们": a word the lexicon lists with its plural suffix is plural too
    default_count = None if plural or entry.plural or entry.head.endswith("们") or entry.head in _FLOCK_NOUNS_ZH else 1
    relative = _RELATIVE_CLAUSE_RE.search(text[_last_break(text, i) : i])
    if numeral is not None and _numeral_applies(numeral, before) and not _inside_relative_clause(text, end, before,
                                                                                                 numeral):
        start, count, definite, another = _read_numeral(numeral, boundary, entry, default_count)
    elif relative is not None and before == "的":
        # "两个骑自行车的女孩": the numeral before the describing clause counts its head, the girls
        _, count, definite, another = _read_numeral(relative, boundary, entry, default_count)
        start = i
    else:
        start, count, definite, another = _read_other_words(before, boundary, i, entry, default_count)
    if any(before.endswith(v) for v in ZH_VAGUE) or (numeral is not None and start < i
                                                      and numeral.group("number") in ("几", "数")):
        count = None
    if _REDUPLICATED_RE.search(text[max(0, start - 3) : i]):
        count, start = None, min(start, i - len(_REDUPLICATED_RE.search(text[max(0, start - 3) : i]).group(0)))
    if start == i and _EVENT_AFTER_RE.match(text, end):  # "龙舟赛": a race of several boats
        count = None
    if _ROUGH_NUMBER_RE.search(text[max(0, i - 6) : i]) or _ONE_AFTER_ANOTHER_RE.match(text, max(0, i - 2)) \
            or _ONE_AFTER_ANOTHER_RE.match(text, max(0, i - 1)):
        count = None  # "几十条小船", "成千只候鸟": a number given only roughly; "一碗碗地盛粥": one after another
    count = group_count(entry.head, count)
    stated = start < i and not definite
    return Mention(start, end, text[start:end], entry.head, entry.coco, count, definite, another, stated=stated,
                   implies=entry.implies, name=entry.name)


# "龙舟赛", "自行车比赛": a race or match of the thing names an event with several of it
_EVENT_AFTER_RE = re.compile(r"(?:大?赛|比赛|赛事|锦标赛)")
_ROUGH_NUMBER_RE = re.compile(r"(?:十几|几十|好几|数十|上百|几百|成百|上千|成千|[十百千]多|[十百千]余)[^\s，。,、]{0,3}$")
# "一碗碗地盛粥", "一杯杯": the noun is the classifier, said twice
_ONE_AFTER_ANOTHER_RE = re.compile(r"一(\w)\1")
# "一排排座椅", "一辆辆车", "一只只小鸭": a classifier said twice is many, with no number.
_REDUPLICATED_RE = re.compile(rf"一([{ZH_CLASSIFIERS}排行串堆])\1$")


# A describing clause that opens on a verb and ends in 的 ("一个骑自行车的女孩", "两个穿红裙子的女孩"):
# its verb's object is not what the numeral counts.
_RELATIVE_VERBS_ZH = "骑穿戴背拿抱牵开推提举带坐拎捧扛"
_RELATIVE_CLAUSE_RE = re.compile(rf"{_NUMERAL_RE.pattern}[{_RELATIVE_VERBS_ZH}]着?[^，。！？的]{{1,8}}的$")


def _inside_relative_clause(text: str, end: int, before: str, numeral: re.Match) -> bool:
    """The noun is the object inside a describing clause: numeral, verb, this noun, then 的."""
    gap = before[numeral.end():]
    return bool(gap) and gap[0] in _RELATIVE_VERBS_ZH and text[end : end + 1] == "的"


def _numeral_applies(numeral: re.Match, before: str) -> bool:
    has_word = numeral.group("number") or numeral.group("demonstrative") or numeral.group("other")
    return bool(has_word) and _adjective_gap(before[numeral.end():])


def _read_numeral(numeral: re.Match, boundary: int, entry: Entry, count: int | None) -> Reading:
    """ "两只", "这只", "另一只", "一对", "一群" before the noun."""
    definite = another = False
    number = numeral.group("number")
    if numeral.group("other"):
        another, count = True, 1
    elif numeral.group("demonstrative"):
        definite = True
    elif number:
        count = _zh_number(number)
    if numeral.group("classifier") in "对双" and entry.head not in PAIR_NOUNS and count:
        count *= 2
    if numeral.group("classifier") == "群":
        count = None
    return boundary + numeral.start(), count, definite, another


def _read_other_words(before: str, boundary: int, i: int, entry: Entry, count: int | None) -> Reading:
    """A bare demonstrative ("这狗"), a description ("棕色的狗") or a count of people ("三人")."""
    if re.search(r"[这那该]$", before):
        return i - 1, count, True, False
    described = _DESCRIBED_RE.search(before)
    if described:
        return boundary + described.start(), count, False, False
    if _PERSON_COUNT_RE.search(before) and entry.head in ("人",):
        return i - 1, _zh_number(before[-1]), False, False
    if before.endswith(("俩", "仨")) and entry.coco == "person":  # "俩兄弟", "仨闺蜜"
        return i - 1, 2 if before.endswith("俩") else 3, False, False
    return i, count, False, False


def _last_break(text: str, position: int) -> int:
    found = max(text.rfind(mark, 0, position) for mark in "，,。！？!?；;、")
    return found + 1


def _adjective_gap(gap: str) -> bool:
    # Between "两只" and "小熊" only describing words fit: "棕色的", "可爱". A verb of play or a
    # numeral ends the count: "一对一打篮球" is one-on-one basketball, not a pair of balls.
    if re.search(r"[把被给向在和与跟同到从对朝往了着过是递扔抛接打踢玩练]", gap) or gap.startswith(("一", "1")):
        return False
    return len(gap) <= 3 or (gap.endswith("的") and len(gap) <= 8)


def _zh_number(number: str) -> int | None:
    if number.isdigit():
        return int(number)
    if number in ZH_DIGITS:
        return ZH_DIGITS[number]
    if len(number) == 2 and number[0] == "十":
        return 10 + ZH_DIGITS.get(number[1], 0)
    if len(number) == 2 and number[1] == "十":
        return ZH_DIGITS.get(number[0], 1) * 10
    return None
