"""Chinese nouns: the words that name each COCO class, the subjects worth naming that the
detector cannot check, and the words that contain a noun but mean something else."""

COCO_WORDS_ZH = {
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
OTHER_SUBJECTS_ZH = (
    "机器人 熊猫 小熊猫 狐狸 兔子 小兔子 老虎 狮子 鹿 小鹿 猴子 松鼠 蝴蝶 鱼 金鱼 龙 独角兽 恐龙 狼 猪 小猪 "
    "山羊 仓鼠 乌龟 蛇 青蛙 鲸鱼 海豚 鲨鱼 袋鼠 考拉 外星人 动物 小动物 宠物 玩具 娃娃 罐子 盒子 礼物 气球 "
    "雪人 稻草人 老鼠"
)
# Words containing a lexicon noun that mean something else ("马上" = at once, "牛奶" = milk).
NOT_SUBJECTS_ZH = (
    "马上 马路 斑马线 牛奶 牛仔裤 羊毛 鸡蛋 鸡肉 人行道 车站 车库 车道 车窗 车门 火车站 地球 球场 眼球 书店 "
    "书架 狗粮 猫粮 熊熊 人物 人生 人间 动人 迷人 别人 有人 每个人 马车 床单 电视台 手机壳 瓶盖 飞机场 "
    "人群 熊掌 鸟巢 伞下 刀叉 一些 好多"
)
