"""Words that say how many, or which one: English numerals, vague quantities and definite
determiners; Chinese digits, classifiers and vague quantities."""

NUMBERS_EN = {"a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "both": 2, "three": 3, "four": 4,
               "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
               "twelve": 12, "dozen": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
               "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
VAGUE_QUANTITIES_EN = {"some", "several", "many", "few", "various", "multiple", "numerous", "lots", "bunch"}
DEFINITE_EN = {"the", "this", "that", "these", "those", "his", "her", "its", "their", "my", "your", "our"}

ZH_DIGITS = {"一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "仨": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9, "十": 10}
ZH_CLASSIFIERS = "只个位名条头匹辆架艘把张本瓶杯台部颗根双对群块件盆棵枚支片座朵"
ZH_VAGUE = ("一群", "一些", "许多", "很多", "好多", "一堆", "几", "数", "成群的")
