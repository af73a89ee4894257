"""Word lists the prompt structurer (`clipmill.planning`) reads, English and Chinese.

What is here: the nouns that name a COCO class (the classes QA's detector can check),
subjects worth naming that it cannot check, place words, numerals and classifiers,
determiners, adjectives, verbs, and the default negative prompts. `lexicon_en()` and
`lexicon_zh()` turn the noun lists into the lookup tables planning matches against.

To extend:
- a noun for a COCO class: add it to the class's string in `_COCO_WORDS_EN` or
  `_COCO_WORDS_ZH` (space-separated; English multi-word nouns use "_", e.g. "fire_truck").
  English plurals are derived; an irregular one goes in `_IRREGULAR_PLURALS`. An English
  noun that is also a common verb or adjective goes in `NEEDS_DETERMINER_EN` too.
- a subject the detector cannot check (it is named in the plan, never expected by QA):
  `_OTHER_SUBJECTS_EN` / `_OTHER_SUBJECTS_ZH`.
- a Chinese word that contains a noun but means something else ("牛奶"): `_NOT_SUBJECTS_ZH`.
- a place: `PLACES_EN` / `PLACES_ZH`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

DEFAULT_NEGATIVE_PROMPT_EN = (
    "vivid oversaturated colours, overexposed, static, blurry details, subtitles, text, watermark, "
    "style, artwork, painting, still image, overall grey, worst quality, low quality, JPEG artifacts, "
    "ugly, incomplete, extra fingers, poorly drawn hands, poorly drawn face, deformed, disfigured, "
    "malformed limbs, fused fingers, frozen frame, cluttered background, three legs, crowd in the "
    "background, walking backwards, duplicated subjects, subjects merging, flickering"
)
DEFAULT_NEGATIVE_PROMPT_ZH = (
    "色调艳丽，过曝，静态，细节模糊不清，字幕，水印，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
    "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，"
    "手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走，主体重复，主体融合，闪烁"
)

# --- lexicon: words as written -> COCO class -------------------------------------------
# Multi-word entries use "_". Plurals are derived (see _plural) except the irregular ones.

_COCO_WORDS_EN = {
    "person": "person man woman boy girl child kid baby toddler teenager teen guy lady gentleman adult "
    "mother mom mum father dad grandmother grandma grandfather grandpa grandparent parent son daughter "
    "brother sister friend student teacher chef cook doctor nurse worker farmer dancer singer musician "
    "athlete runner jogger skier surfer skateboarder cyclist biker rider driver pilot soldier officer "
    "policeman policewoman police_officer firefighter waiter waitress customer shopper actor actress "
    "presenter influencer vlogger blogger streamer tourist traveler traveller hiker astronaut businessman "
    "businesswoman bride groom fisherman performer wife husband boyfriend girlfriend someone somebody "
    "person people grandson granddaughter cowboy king queen prince princess clown magician model "
    "salesperson shopkeeper cashier",
    "bicycle": "bicycle bike bmx",
    "car": "car taxi sedan suv jeep sports_car police_car convertible limousine race_car racing_car",
    "motorcycle": "motorcycle motorbike scooter moped",
    "airplane": "airplane aeroplane plane jet airliner aircraft",
    "bus": "bus school_bus double-decker",
    "train": "train locomotive tram subway_train",
    "truck": "truck lorry pickup_truck fire_truck dump_truck",
    "boat": "boat ship yacht sailboat canoe kayak ferry rowboat",
    "traffic light": "traffic_light stoplight traffic_signal",
    "fire hydrant": "fire_hydrant hydrant",
    "stop sign": "stop_sign",
    "parking meter": "parking_meter",
    "bench": "bench park_bench",
    "bird": "bird sparrow pigeon dove parrot eagle seagull gull duck duckling goose swan owl chicken hen "
    "rooster chick crow robin penguin flamingo hummingbird",
    "cat": "cat kitten kitty",
    "dog": "dog puppy pup doggy corgi husky labrador retriever golden_retriever poodle bulldog beagle "
    "shiba chihuahua dachshund terrier german_shepherd dalmatian",
    "horse": "horse pony foal stallion mare",
    "sheep": "sheep lamb",
    "cow": "cow cattle calf bull ox",
    "elephant": "elephant",
    "bear": "bear polar_bear grizzly brown_bear bear_cub",
    "zebra": "zebra",
    "giraffe": "giraffe",
    "backpack": "backpack rucksack knapsack schoolbag",
    "umbrella": "umbrella parasol",
    "handbag": "handbag purse",
    "tie": "tie necktie",
    "suitcase": "suitcase luggage",
    "frisbee": "frisbee flying_disc",
    "skis": "ski skis",
    "snowboard": "snowboard",
    "sports ball": "ball football soccer_ball basketball volleyball tennis_ball beach_ball rugby_ball "
    "golf_ball baseball",
    "kite": "kite",
    "baseball bat": "baseball_bat",
    "baseball glove": "baseball_glove mitt",
    "skateboard": "skateboard",
    "surfboard": "surfboard",
    "tennis racket": "tennis_racket racket racquet",
    "bottle": "bottle water_bottle wine_bottle",
    "wine glass": "wine_glass wineglass champagne_glass goblet",
    "cup": "cup mug teacup coffee_cup",
    "fork": "fork",
    "knife": "knife",
    "spoon": "spoon",
    "bowl": "bowl",
    "banana": "banana",
    "apple": "apple",
    "sandwich": "sandwich burger hamburger",
    "orange": "orange",
    "broccoli": "broccoli",
    "carrot": "carrot",
    "hot dog": "hot_dog hotdog",
    "pizza": "pizza",
    "donut": "donut doughnut",
    "cake": "cake cupcake birthday_cake",
    "chair": "chair armchair",
    "couch": "couch sofa",
    "potted plant": "potted_plant houseplant plant_pot",
    "bed": "bed",
    "dining table": "dining_table table",
    "toilet": "toilet",
    "tv": "tv television tv_set",
    "laptop": "laptop notebook_computer",
    "mouse": "computer_mouse",
    "remote": "remote remote_control",
    "keyboard": "keyboard",
    "cell phone": "phone smartphone cellphone cell_phone mobile_phone iphone",
    "microwave": "microwave",
    "oven": "oven",
    "toaster": "toaster",
    "sink": "sink",
    "refrigerator": "refrigerator fridge",
    "book": "book",
    "clock": "clock",
    "vase": "vase",
    "scissors": "scissors",
    "teddy bear": "teddy_bear teddy plush_bear",
    "hair drier": "hair_drier hair_dryer hairdryer blow_dryer",
    "toothbrush": "toothbrush",
}
# Subjects worth naming in the plan that a COCO detector cannot check.
_OTHER_SUBJECTS_EN = (
    "robot panda fox rabbit bunny tiger lion deer monkey squirrel butterfly fish dragon unicorn dinosaur "
    "wolf pig goat hamster turtle tortoise snake frog whale dolphin shark kangaroo koala alien ghost "
    "superhero animal creature pet toy doll jar box gift balloon mouse bat"
)
GENERIC_SUBJECTS = {"animal", "creature", "pet", "thing", "动物", "小动物", "宠物", "东西"}
_IRREGULAR_PLURALS = {
    "person": "people", "man": "men", "woman": "women", "child": "children", "mouse": "mice",
    "goose": "geese", "sheep": "sheep", "fish": "fish", "calf": "calves", "knife": "knives", "wife": "wives",
    "ox": "oxen", "cattle": "cattle", "deer": "deer", "scissors": "scissors", "skis": "skis",
    "luggage": "luggage", "broccoli": "broccoli", "wolf": "wolves", "shelf": "shelves",
}
# Nouns that are also common verbs or adjectives ("ducks under", "an orange cat", "ties a
# knot"): counted only with a determiner or number in front.
NEEDS_DETERMINER_EN = {"duck", "tie", "orange", "remote", "book", "bowl", "train", "ship", "sink", "ski",
                        "plane", "cup", "fork", "bat", "box", "pet", "toy", "cook", "model", "bike", "jet",
                        "table", "bull", "crow", "dove", "pup", "kid", "teen", "jar", "pitcher", "phone"}

_COCO_WORDS_ZH = {
    "person": "人 男人 女人 男孩 女孩 小男孩 小女孩 男生 女生 孩子 小孩 儿童 婴儿 宝宝 老人 老奶奶 老爷爷 "
    "妈妈 母亲 爸爸 父亲 爷爷 奶奶 外婆 外公 姐姐 妹妹 哥哥 弟弟 朋友 学生 老师 厨师 医生 护士 工人 农民 "
    "舞者 歌手 模特 主播 博主 网红 游客 运动员 司机 警察 士兵 宇航员 新娘 新郎 少年 少女 青年 姑娘 小伙子 "
    "女士 先生 顾客 店员 服务员 行人 路人 骑手 主人 船长 车手 牛仔 人们 情侣 夫妻 双胞胎 小朋友 大人 男子 女子 "
    "儿子 女儿 丈夫 妻子 老公 老婆 同事 老板 快递员 外卖员 女主播 男主播 达人 消费者 买家 卖家",
    "bicycle": "自行车 单车 脚踏车",
    "car": "汽车 车 小汽车 轿车 出租车 跑车 警车",
    "motorcycle": "摩托车 摩托 电动车",
    "airplane": "飞机 客机",
    "bus": "公交车 公共汽车 巴士 大巴",
    "train": "火车 列车 高铁 地铁",
    "truck": "卡车 货车 消防车",
    "boat": "船 小船 帆船 游艇 轮船",
    "traffic light": "红绿灯 交通灯 信号灯",
    "fire hydrant": "消防栓",
    "stop sign": "停车标志 停止标志",
    "parking meter": "停车计时器 咪表",
    "bench": "长椅 长凳",
    "bird": "鸟 小鸟 鸽子 鸭子 小鸭 鹅 天鹅 鸡 公鸡 母鸡 小鸡 鹦鹉 老鹰 海鸥 企鹅 猫头鹰 麻雀 乌鸦",
    "cat": "猫 小猫 猫咪 橘猫 黑猫 白猫",
    "dog": "狗 小狗 狗狗 柯基 哈士奇 金毛 泰迪 柴犬 边牧 拉布拉多 斗牛犬 小奶狗",
    "horse": "马 小马 骏马 白马 黑马",
    "sheep": "羊 绵羊 小羊 羊羔",
    "cow": "牛 奶牛 小牛 公牛 黄牛",
    "elephant": "大象 象 小象",
    "bear": "熊 小熊 棕熊 北极熊 黑熊 熊宝宝",
    "zebra": "斑马",
    "giraffe": "长颈鹿",
    "backpack": "背包 书包 双肩包",
    "umbrella": "雨伞 伞 遮阳伞",
    "handbag": "手提包 手袋 包包",
    "tie": "领带",
    "suitcase": "行李箱 旅行箱 拉杆箱",
    "frisbee": "飞盘",
    "skis": "滑雪板 雪板",
    "snowboard": "单板 滑雪单板",
    "sports ball": "球 足球 篮球 排球 网球 皮球 棒球 橄榄球 高尔夫球",
    "kite": "风筝",
    "baseball bat": "球棒 棒球棒",
    "baseball glove": "棒球手套",
    "skateboard": "滑板",
    "surfboard": "冲浪板",
    "tennis racket": "网球拍 球拍",
    "bottle": "瓶子 水瓶 酒瓶 瓶 矿泉水",
    "wine glass": "酒杯 高脚杯 红酒杯",
    "cup": "杯子 茶杯 咖啡杯 马克杯 水杯",
    "fork": "叉子",
    "knife": "刀 小刀 刀子 餐刀",
    "spoon": "勺子 汤匙 调羹",
    "bowl": "碗",
    "banana": "香蕉",
    "apple": "苹果",
    "sandwich": "三明治 汉堡",
    "orange": "橙子 橘子 桔子",
    "broccoli": "西兰花",
    "carrot": "胡萝卜",
    "hot dog": "热狗",
    "pizza": "披萨 比萨",
    "donut": "甜甜圈",
    "cake": "蛋糕 生日蛋糕",
    "chair": "椅子",
    "couch": "沙发",
    "potted plant": "盆栽 盆景",
    "bed": "床",
    "dining table": "餐桌 桌子",
    "toilet": "马桶",
    "tv": "电视 电视机",
    "laptop": "笔记本电脑",
    "mouse": "鼠标",
    "remote": "遥控器",
    "keyboard": "键盘",
    "cell phone": "手机",
    "microwave": "微波炉",
    "oven": "烤箱",
    "toaster": "烤面包机",
    "sink": "水槽 洗手池",
    "refrigerator": "冰箱",
    "book": "书 书本",
    "clock": "时钟 钟表 挂钟 闹钟",
    "vase": "花瓶",
    "scissors": "剪刀",
    "teddy bear": "泰迪熊 玩具熊 毛绒熊",
    "hair drier": "吹风机 电吹风",
    "toothbrush": "牙刷",
}
_OTHER_SUBJECTS_ZH = (
    "机器人 熊猫 小熊猫 狐狸 兔子 小兔子 老虎 狮子 鹿 小鹿 猴子 松鼠 蝴蝶 鱼 金鱼 龙 独角兽 恐龙 狼 猪 小猪 "
    "山羊 仓鼠 乌龟 蛇 青蛙 鲸鱼 海豚 鲨鱼 袋鼠 考拉 外星人 动物 小动物 宠物 玩具 娃娃 罐子 盒子 礼物 气球 "
    "雪人 稻草人 老鼠"
)
# Words containing a lexicon noun that mean something else ("马上" = at once, "牛奶" = milk).
_NOT_SUBJECTS_ZH = (
    "马上 马路 斑马线 牛奶 牛仔裤 羊毛 鸡蛋 鸡肉 人行道 车站 车库 车道 车窗 车门 火车站 地球 球场 眼球 书店 "
    "书架 狗粮 猫粮 熊熊 人物 人生 人间 动人 迷人 别人 有人 每个人 马车 床单 电视台 手机壳 瓶盖 飞机场 "
    "人群 熊掌 鸟巢 伞下 刀叉 一些 好多"
)
# Counted as a group of two ("a couple", "情侣").
PAIR_NOUNS = {"couple", "twins", "情侣", "夫妻", "双胞胎"}
VAGUE_GROUP_NOUNS = {"crowd", "family", "group", "team", "人们", "人群"}

PLACES_EN = (
    "park forest woods jungle beach shore coast sea ocean lake river pond street road avenue alley city "
    "town village square plaza market mall shop store supermarket kitchen room living_room bedroom "
    "bathroom office classroom school library studio cafe café coffee_shop restaurant bar garden yard "
    "backyard field meadow farm barn desert mountain hill valley snow stadium court gym pool playground "
    "airport station platform subway bridge house home apartment garage warehouse factory church temple "
    "castle palace stage theater theatre hall corridor hallway lobby rooftop balcony porch campsite cave "
    "sky space grassland savanna island riverbank lawn parking_lot sidewalk crosswalk highway countryside "
    "bamboo_grove grove orchard vineyard harbor harbour dock pier showroom arena"
)
PLACES_ZH = (
    "森林 树林 丛林 竹林 公园 海滩 沙滩 海边 大海 湖边 湖面 河边 小河 街道 街头 马路 城市 小镇 村庄 广场 市场 "
    "商场 商店 超市 厨房 客厅 卧室 房间 浴室 办公室 教室 学校 图书馆 摄影棚 咖啡馆 咖啡店 餐厅 饭店 酒吧 花园 "
    "院子 后院 田野 草地 草坪 草原 农场 沙漠 山顶 山谷 雪地 雪山 体育场 球场 操场 游泳池 游乐场 机场 车站 "
    "火车站 站台 地铁站 家里 屋里 车库 仓库 工厂 寺庙 城堡 宫殿 舞台 剧院 大厅 走廊 楼顶 屋顶 阳台 营地 山洞 "
    "天空 太空 直播间 展台 街上 路上 山上 岛上 桥上"
)
# "in a hurry", "in slow motion": in/at phrases that are not places.
NOT_PLACES_EN = {"hurry", "moment", "while", "row", "circle", "line", "motion", "way", "style", "manner",
                  "mood", "time", "turn", "turns", "unison", "silence", "slow", "front", "love", "fact"}

NUMBERS_EN = {"a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "both": 2, "three": 3, "four": 4,
               "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
               "twelve": 12, "dozen": 12}
VAGUE_QUANTITIES_EN = {"some", "several", "many", "few", "various", "multiple", "numerous", "lots", "bunch"}
DEFINITE_EN = {"the", "this", "that", "these", "those", "his", "her", "its", "their", "my", "your", "our"}
ADJECTIVES_EN = set(
    "red orange yellow green blue purple pink brown black white grey gray golden silver little small big large "
    "tiny huge young old cute fluffy tall short fat thin happy sad furry shiny wooden colorful colourful "
    "beautiful elderly baby giant playful curious lazy wild spotted striped sleek modern vintage new "
    "cheerful smiling excited adorable pretty handsome elegant stylish brave friendly hungry sleepy".split()
)
ADJECTIVE_SUFFIXES = ("y", "ful", "ous", "ish", "less", "ic", "al", "en", "ed", "ive", "able")

ZH_DIGITS = {"一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "仨": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9, "十": 10}
ZH_CLASSIFIERS = "只个位名条头匹辆架艘把张本瓶杯台部颗根双对群块件盆棵枚支片座朵"
ZH_VAGUE = ("一群", "一些", "许多", "很多", "好多", "一堆", "几", "数", "成群的")

_VERBS_EN = (
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


def _plural(word: str) -> str:
    if word in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[word]
    if word.endswith("man") and not word.endswith("human"):
        return word[:-3] + "men"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


@dataclass(frozen=True)
class Entry:
    head: str  # the singular form, the key for "same word mentioned again"
    coco: str | None
    plural: bool


@cache
def lexicon_en() -> dict[tuple[str, ...], Entry]:
    lexicon: dict[tuple[str, ...], Entry] = {}

    def add(word: str, coco: str | None) -> None:
        words = tuple(word.split("_"))
        singular = " ".join(words)
        lexicon.setdefault(words, Entry(singular, coco, plural=False))
        plural = words[:-1] + (_plural(words[-1]),)
        if plural != words:
            lexicon.setdefault(plural, Entry(singular, coco, plural=True))

    for coco, words in _COCO_WORDS_EN.items():
        for word in words.split():
            add(word, coco)
    for word in _OTHER_SUBJECTS_EN.split():
        add(word, None)
    lexicon[("people",)] = Entry("people", "person", plural=True)
    lexicon[("persons",)] = Entry("person", "person", plural=True)
    lexicon[("cattle",)] = Entry("cattle", "cow", plural=True)
    for word in ("couple", "crowd", "family", "twins"):
        lexicon[(word,)] = Entry(word, "person", plural=word != "couple" and word != "family")
    return lexicon


@cache
def lexicon_zh() -> dict[str, Entry | None]:
    lexicon: dict[str, Entry | None] = {}
    for coco, words in _COCO_WORDS_ZH.items():
        for word in words.split():
            lexicon[word] = Entry(word, coco, plural=False)
    for word in _OTHER_SUBJECTS_ZH.split():
        lexicon.setdefault(word, Entry(word, None, plural=False))
    for word in _NOT_SUBJECTS_ZH.split():
        lexicon[word] = None  # matched first (longest match) so its parts are never read as nouns
    lexicon["人群"] = Entry("人群", "person", plural=True)
    return lexicon


def _verb_forms(bases: list[str]) -> set[str]:
    forms = set()
    for verb in bases:
        forms |= {verb, verb + "s", verb + "es", verb + "ed", verb + "d", verb + "ing", verb[:-1] + "ing",
                  verb + verb[-1] + "ing", verb + verb[-1] + "ed", verb[:-1] + "ies", verb[:-1] + "ied"}
    return forms | {"ran", "threw", "caught", "gave", "took", "held", "went", "came", "sat", "stood", "fell",
                    "flew", "swam", "rode", "drove", "ate", "drank", "brought", "left", "shook", "put", "cut"}


VERB_FORMS_EN = _verb_forms(_VERBS_EN)


@cache
def lexicon_words() -> frozenset[str]:
    return frozenset(w for key in lexicon_en() for w in key)
