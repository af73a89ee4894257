"""Words that say something is absent ("without a dog", "no people", "没有狗", "无人"): what
follows them, up to the end of the noun phrase (English) or the clause (Chinese), is not in
the shot."""
import re

NEGATION_EN = re.compile(
    r"\b(?:(?:with\s+)?no(?!\s+(?:longer|more|matter|one|doubt)\b)|without(?:\s+any)?|not\s+(?:a\s+single|any|a)|"
    r"free\s+of|devoid\s+of|empty\s+of|(?:do\s+not|don't|never)\s+(?:show|include|add)(?:\s+any)?|avoid(?:ing)?)\b",
    re.IGNORECASE,
)
# After the noun: "its owner nowhere to be seen", "主人不在".
AFTER_NEGATION_EN = re.compile(r"\s+(?:is\s+|are\s+)?(?:nowhere\s+(?:to\s+be\s+seen|in\s+sight)|out\s+of\s+(?:sight|frame)|"
                               r"not\s+(?:in\s+sight|there|visible)|absent|missing)\b", re.IGNORECASE)
AFTER_NEGATION_ZH = re.compile(r"(?:不在|不见了|不见踪影|没有出现|没出现|(?<=[\u4e00-\u9fff])(?:也|都)(?:没有|没|看不到|看不见)"
                               r"(?![\u4e00-\u9fff]))")
# Nobody: a person is absent, with no noun after it.
NOBODY_EN = re.compile(r"(?:\bwith\s+)?\b(?:nobody|no\s+one|no-one|no\s+humans?|unpeopled|deserted|not\s+a\s+soul|"
                       r"no\s+soul|not\s+a\s+single\s+(?:person|soul)|empty\s+of\s+people|without\s+(?:anyone|anybody)|"
                       r"not\s+(?:anyone|anybody)\s+(?:around|in\s+sight|there))\b"
                       r"(?:\s+(?:on|in|at|around|near)\s+(?:it|them))?", re.IGNORECASE)
# Where an English negation's reach ends: words that start something else.
SCOPE_END_EN = {"but", "just", "only", "except", "while", "as", "in", "on", "at", "around", "nearby", "near",
                "anywhere", "visible", "present", "is", "are", "there", "here", "and", "with", "instead"}
NEGATION_ZH = re.compile(r"(?:没有|没人|不要出现|不要有|不要|别让|别出现|不出现|不能出现|不含|不带|看不到|看不见|毫无|空无|"
                         r"无人(?!机)|(?<![看])不见(?!了|踪影)|见不到)")
# "空无一人", "无人", "没人": a person is absent even with no noun after the word.
_PEOPLE_ZH = r"(?:人|客人|顾客|行人|路人|游客|乘客|旅客|学生|孩子|人影|观众|食客|宾客|居民|员工|店员|工作人员)"
NOBODY_ZH = re.compile(r"(?:空无一人|无人(?!机)|没人|没有人|杳无人烟|(?:不要|不出现|没有|无|不能有|别有)人物|人物不出镜|"
                       r"不要真人|不见人影|不见人|看不到人|看不见人|人影全无|人迹全无|渺无人迹|人去楼空|空空荡荡|空荡荡|"
                       rf"(?:一|半)个{_PEOPLE_ZH}?(?:也|都)(?:没有|没|看不见|看不到|不见|见不到|不在)|没有(?:一|半)个{_PEOPLE_ZH}|"
                       rf"{_PEOPLE_ZH}(?:全无|皆无|一个(?:也|都)没有)|(?:不见|见不到|看不到|看不见)(?:一|半)个{_PEOPLE_ZH})")
# Of those, the forms that say the place is empty rather than that nobody is there ("空荡荡的货架"
# has no goods): read as nobody with less confidence.
EMPTY_PLACE_ZH = re.compile(r"空空荡荡|空荡荡")
# "an empty gym", "a vacant parking lot": a place said to be empty has nobody in it, where the text
# names nobody either (read only then: "a teenager skates down an empty street" is one person).
EMPTY_PLACE_EN = re.compile(
    r"\b(?:empty|vacant)\s+(?:[a-z]+\s+)?(?:gym|street|road|office|room|classroom|hall|hallway|corridor|lobby|stadium|"
    r"arena|court|pool|playground|park|beach|station|platform|subway|train|bus|carriage|cabin|warehouse|parking\s+lot|"
    r"parking\s+garage|garage|store|shop|restaurant|cafe|café|bar|theater|theatre|cinema|church|square|plaza|alley|"
    r"highway|library|studio|kitchen|bedroom|living\s+room|apartment|house|home|mall|airport|terminal|waiting\s+room|"
    r"office\s+space|stage|dance\s+floor|town|village|campus|school|market|boardwalk|pier|trail)s?\b", re.IGNORECASE)
# Said of a negation, these make it "almost none" ("几乎没有人", "hardly anyone"): a few may be there.
HEDGES = re.compile(r"(?:几乎|差不多|近乎|基本上?|很少|almost|nearly|hardly|barely|practically|virtually|mostly)\W{0,2}$",
                    re.IGNORECASE)
