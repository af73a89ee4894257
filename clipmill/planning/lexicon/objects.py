"""Things outside COCO's 80 classes that prompts name: products, food, props and animals.

They are subjects of the plan (named, kept in the generator prompt, never a reason for a
"vague prompt" warning) but a COCO detector cannot check them; the plan lists them by their
English name (`ShotPlan.open_vocabulary`) so an open-vocabulary detector (YOLO-World, YOLOE)
can be given them as classes. Chinese words map to the English name that detector reads.
"""

OBJECTS_EN = (
    # products
    "ring perfume cologne fragrance sneaker trainer shoe running_shoe boot heel sandal slipper earbud earphone "
    "headphone headset airpods lipstick lip_gloss mascara eyeliner eyeshadow foundation serum cream "
    "moisturizer moisturiser lotion cleanser toner shampoo conditioner sunscreen smartwatch smart_watch "
    "watch wristwatch bracelet necklace earring pendant sunglasses hat cap beanie scarf jacket coat dress "
    "shirt t-shirt hoodie sweater jeans skirt wallet bag shopping_bag speaker drone tablet ipad console "
    "controller gamepad charger power_bank kettle blender coffee_machine espresso_machine air_fryer "
    "vacuum rice_cooker lamp candle thermos tumbler_cup water_flask jewellery jewelry watch_box gift_box "
    "package parcel skincare makeup compact palette brush razor shaver "
    "helmet goggles toothpaste soap shower_gel nail_polish blush concealer highlighter comb hairbrush "
    "curling_iron hair_straightener phone_case tripod gimbal selfie_stick ring_light projector printer router "
    "e-reader kindle vr_headset dumbbell kettlebell barbell yoga_ball jump_rope water_gun humidifier diffuser "
    "air_purifier lunchbox lunch_box wristband headband hair_clip keychain key car_key teapot wok spatula ladle "
    "whisk cutting_board rolling_pin grater "
    # food and drink
    "croissant cookie biscuit steak sushi ramen noodle dumpling bread loaf baguette salad fries soup "
    "ice_cream popsicle lemon strawberry watermelon grape cherry peach mango avocado tomato egg cheese "
    "chocolate coffee latte espresso cappuccino americano tea juice milk smoothie cocktail beer wine "
    "champagne whiskey honey pie taco burrito pancake waffle macaron dessert meal dish "
    "cucumber potato onion garlic pepper corn rice shrimp prawn salmon bacon sausage pasta spaghetti tofu "
    "cereal yogurt yoghurt almond peanut walnut bagel muffin brownie pudding candy lollipop popcorn marshmallow "
    "pineapple kiwi blueberry raspberry lime coconut pumpkin eggplant mushroom lettuce cabbage kebab skewer "
    "pretzel omelette straw "
    # props and furniture
    "snowman scarecrow sock mat yoga_mat chopstick saucer plate pan pot tray basket crate rug carpet mirror pillow cushion blanket towel sled rope "
    "yarn bouquet flower rose chess chessboard guitar piano violin drum microphone camera_bag turntable "
    "pedestal shelf hook stand tent lantern trophy medal flag sign poster painting candle_holder "
    "bucket shovel broom ladder wheel tire hose camera film_camera cone ice_cream_cone snowball "
    "envelope red_envelope ticket boarding_pass passport map newspaper magazine whiteboard blackboard easel "
    "paintbrush swing seesaw sandcastle campfire bonfire statue sculpture fountain "
    # vehicles and machines outside COCO
    "helicopter tractor forklift excavator bulldozer tank rocket spaceship blimp hot_air_balloon golf_cart "
    "wheelchair stroller pram sled sleigh segway hoverboard tricycle rickshaw tuk-tuk kick_scooter skates "
    "roller_skates ice_skates inline_skates rollerblades "
    # animals
    "bee ant spider octopus crab lobster jellyfish seal otter hedgehog alpaca llama donkey camel "
    "rhino hippo leopard cheetah parrotfish goldfish koi ladybug dragonfly snail lizard gecko chameleon raccoon "
    "beaver moose bison buffalo yak reindeer"
)
# Chinese word -> the English name an open-vocabulary detector is given.
OBJECTS_ZH = {
    "香水": "perfume", "运动鞋": "sneakers", "球鞋": "sneakers", "跑鞋": "running shoes", "鞋子": "shoes",
    "鞋": "shoes", "高跟鞋": "high heels", "靴子": "boots", "拖鞋": "slipper", "蓝牙耳机": "earbuds",
    "无线耳机": "earbuds", "耳机": "earbuds", "头戴式耳机": "headphones", "口红": "lipstick", "唇膏": "lipstick",
    "唇釉": "lip gloss", "睫毛膏": "mascara", "粉底液": "foundation", "精华液": "serum", "精华": "serum",
    "面霜": "cream", "乳液": "lotion", "洗面奶": "cleanser", "洗发水": "shampoo", "护发素": "conditioner",
    "防晒霜": "sunscreen", "智能手表": "smartwatch", "手表": "watch", "手环": "fitness band", "项链": "necklace",
    "手链": "bracelet", "耳环": "earrings", "戒指": "ring", "墨镜": "sunglasses", "太阳镜": "sunglasses",
    "帽子": "hat", "围巾": "scarf", "外套": "jacket", "连衣裙": "dress", "裙子": "skirt", "衬衫": "shirt",
    "T恤": "t-shirt", "卫衣": "hoodie", "毛衣": "sweater", "牛仔裤": "jeans", "钱包": "wallet",
    "购物袋": "shopping bag", "袋子": "bag", "音箱": "speaker", "无人机": "drone", "平板电脑": "tablet",
    "平板": "tablet", "游戏机": "game console", "手柄": "controller", "充电宝": "power bank", "充电盒": "charging case",
    "充电器": "charger", "水壶": "kettle", "电水壶": "kettle", "榨汁机": "blender", "咖啡机": "coffee machine",
    "空气炸锅": "air fryer", "吸尘器": "vacuum cleaner", "电饭煲": "rice cooker", "台灯": "lamp", "蜡烛": "candle",
    "香薰": "candle", "保温杯": "thermos", "包裹": "package", "快递": "package", "礼盒": "gift box",
    "化妆品": "makeup", "护肤品": "skincare", "眼影盘": "eyeshadow palette", "剃须刀": "razor",
    "牛排": "steak", "寿司": "sushi", "拉面": "ramen", "面条": "noodles", "螺蛳粉": "rice noodles",
    "饺子": "dumplings", "包子": "steamed bun", "面包": "bread", "沙拉": "salad", "薯条": "fries", "汤": "soup",
    "冰淇淋": "ice cream", "雪糕": "ice cream", "柠檬": "lemon", "草莓": "strawberry", "西瓜": "watermelon",
    "葡萄": "grapes", "樱桃": "cherries", "桃子": "peach", "芒果": "mango", "牛油果": "avocado",
    "西红柿": "tomato", "番茄": "tomato", "巧克力": "chocolate", "咖啡": "coffee", "拿铁": "latte",
    "冰咖啡": "iced coffee", "奶茶": "milk tea", "茶": "tea", "果汁": "juice", "红酒": "wine", "葡萄酒": "wine",
    "啤酒": "beer", "香槟": "champagne", "蜂蜜": "honey", "月饼": "mooncake", "火锅": "hot pot",
    "烤鸭": "roast duck", "小龙虾": "crayfish", "盘子": "plate", "盘": "plate", "锅": "pan", "托盘": "tray",
    "篮子": "basket", "地毯": "rug", "镜子": "mirror", "枕头": "pillow", "抱枕": "cushion", "毯子": "blanket",
    "毛巾": "towel", "毛线球": "ball of yarn", "花束": "bouquet", "鲜花": "flowers", "花": "flowers",
    "玫瑰": "roses", "象棋": "chess", "围棋": "go board", "吉他": "guitar", "钢琴": "piano", "话筒": "microphone",
    "麦克风": "microphone", "转台": "turntable", "展台": "display stand", "筷子": "chopsticks", "纸箱": "cardboard box",
    "箱子": "box", "礁石": "rocks", "铁板": "griddle", "西装": "suit", "婴儿车": "stroller", "童车": "stroller",
    "手推车": "cart", "推车": "cart", "购物车": "shopping cart", "餐车": "food cart", "花瓣": "petals",
    "花生": "peanuts", "瓜子": "seeds", "木棍": "stick", "外卖": "takeout bag", "门铃": "doorbell", "雪人": "snowman", "泡沫": "foam", "泡泡": "bubbles", "气泡": "bubbles", "面膜": "face mask", "三轮车": "tricycle", "袜子": "sock", "瑜伽垫": "yoga mat", "纸飞机": "paper plane", "头盔": "helmet", "玩具车": "toy car", "模型车": "model car", "直升机": "helicopter", "拖拉机": "tractor",
    "红包": "red envelope", "钥匙": "keys", "车钥匙": "car keys", "护目镜": "goggles", "牙膏": "toothpaste",
    "香皂": "soap", "肥皂": "soap", "沐浴露": "shower gel", "指甲油": "nail polish", "腮红": "blush", "梳子": "comb",
    "三脚架": "tripod", "自拍杆": "selfie stick", "补光灯": "ring light", "显示器": "monitor", "投影仪": "projector",
    "哑铃": "dumbbell", "风扇": "fan", "加湿器": "humidifier", "香薰机": "diffuser", "饭盒": "lunch box",
    "吸管": "straw", "茶壶": "teapot", "炒锅": "wok", "锅铲": "spatula", "砧板": "cutting board", "菜板": "cutting board",
    "黄瓜": "cucumber", "土豆": "potato", "洋葱": "onion", "大蒜": "garlic", "辣椒": "chili pepper", "玉米": "corn",
    "米饭": "rice", "虾": "shrimp", "三文鱼": "salmon", "培根": "bacon", "香肠": "sausage", "意面": "pasta",
    "豆腐": "tofu", "酸奶": "yogurt", "坚果": "nuts", "糖果": "candy", "棒棒糖": "lollipop", "爆米花": "popcorn",
    "棉花糖": "marshmallow", "菠萝": "pineapple", "猕猴桃": "kiwi", "蓝莓": "blueberries", "椰子": "coconut",
    "南瓜": "pumpkin", "蘑菇": "mushrooms", "信封": "envelope", "机票": "ticket", "登机牌": "boarding pass",
    "护照": "passport", "地图": "map", "报纸": "newspaper", "杂志": "magazine", "黑板": "blackboard", "画板": "easel",
    "画笔": "paintbrush", "秋千": "swing", "沙堡": "sandcastle", "城堡": "castle", "篝火": "campfire", "帐篷": "tent",
    "灯笼": "lantern", "蜻蜓": "dragonfly", "蜗牛": "snail", "蜥蜴": "lizard", "瓢虫": "ladybug", "羊驼": "alpaca",
    "滑板车": "kick scooter", "电动滑板车": "electric scooter", "平衡车": "hoverboard", "小票": "receipt",
    "发票": "receipt",
    "挖掘机": "excavator", "轮椅": "wheelchair", "相机": "camera", "单反": "camera", "雪橇": "sled", "热气球": "hot air balloon", "棍子": "stick", "风车": "pinwheel", "水车": "water wheel",
}
# Names for the Chinese subjects in `nouns_zh.OTHER_SUBJECTS_ZH` (animals and figures).
OTHER_NAMES_ZH = {
    "机器人": "robot", "熊猫": "panda", "小熊猫": "red panda", "狐狸": "fox", "兔子": "rabbit", "小兔子": "rabbit",
    "老虎": "tiger", "狮子": "lion", "鹿": "deer", "小鹿": "deer", "猴子": "monkey", "松鼠": "squirrel",
    "蝴蝶": "butterfly", "鱼": "fish", "金鱼": "goldfish", "龙": "dragon", "独角兽": "unicorn", "恐龙": "dinosaur",
    "狼": "wolf", "猪": "pig", "小猪": "pig", "山羊": "goat", "仓鼠": "hamster", "乌龟": "turtle", "蛇": "snake",
    "青蛙": "frog", "鲸鱼": "whale", "海豚": "dolphin", "鲨鱼": "shark", "袋鼠": "kangaroo", "考拉": "koala",
    "外星人": "alien", "玩具": "toy", "娃娃": "doll", "罐子": "jar", "盒子": "box", "礼物": "gift", "气球": "balloon",
    "雪人": "snowman", "稻草人": "scarecrow", "老鼠": "mouse",
}
