"""Nouns that bring a second checkable thing with them ("a cyclist" rides a bicycle), and the
"X of Y" phrases where what the detector sees depends on Y ("a glass of wine" is a wine glass,
"a ball of yarn" is no sports ball)."""

# The person noun -> the COCO classes the word itself implies, one each.
IMPLIED_EN = {
    "cyclist": ("bicycle",), "batter": ("baseball bat",), "skateboarder": ("skateboard",), "surfer": ("surfboard",), "skier": ("skis",),
    "snowboarder": ("snowboard",), "motorcyclist": ("motorcycle",), "jockey": ("horse",),
    "equestrian": ("horse",), "horseman": ("horse",), "horsewoman": ("horse",),
    "trucker": ("truck",), "cabbie": ("car",), "cabby": ("car",),
}
IMPLIED_ZH = {
    "骑行者": ("bicycle",), "骑车人": ("bicycle",), "自行车手": ("bicycle",), "滑板手": ("skateboard",),
    "冲浪者": ("surfboard",), "冲浪手": ("surfboard",), "滑雪者": ("skis",), "滑雪运动员": ("skis",),
    "摩托车手": ("motorcycle",), "骑师": ("horse",), "的哥": ("car",), "的姐": ("car",),
    "出租车司机": ("car",), "公交司机": ("bus",), "卡车司机": ("truck",), "货车司机": ("truck",),
}
# "a glass of <one of these>" is a wine glass; a glass of anything else is a cup.
WINE_WORDS_EN = {"wine", "champagne", "prosecco", "sherry", "port", "rosé", "rose", "bubbly", "cava"}
WINE_WORDS_ZH = ("红酒", "葡萄酒", "白葡萄酒", "香槟", "白酒", "酒")
# "a ball of yarn", "a slice of pizza": the first noun is a measure, not the thing itself.
MEASURE_NOUNS_EN = {"ball", "slice", "piece", "bite", "bunch", "handful", "pile", "stack", "scoop", "bar",
                    "loaf", "sheet", "spoonful", "drop", "splash"}
# Chinese classifiers that are containers the detector sees ("两杯咖啡" are two cups).
CONTAINER_CLASSIFIERS_ZH = {"杯": "cup", "瓶": "bottle", "碗": "bowl"}
