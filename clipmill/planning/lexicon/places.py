"""Place words: what a location phrase may name. English multi-word places use "_"."""

PLACES_EN = (
    "park forest woods jungle beach shore coast sea ocean lake river pond street road avenue alley city "
    "town village square plaza market mall shop store supermarket kitchen room living_room bedroom "
    "bathroom office classroom school library studio cafe café coffee_shop restaurant bar garden yard "
    "backyard field meadow farm barn desert mountain hill valley snow stadium court gym pool playground "
    "airport station platform subway bridge house home apartment garage warehouse factory church temple "
    "castle palace stage theater theatre hall corridor hallway lobby rooftop balcony porch campsite cave "
    "sky space grassland savanna island riverbank lawn parking_lot sidewalk crosswalk highway countryside "
    "bamboo_grove grove orchard vineyard harbor harbour dock pier showroom arena trail path slope track "
    "lane driveway tunnel canyon cliff waterfall glacier volcano reef rainforest wetland marsh bay lagoon "
    "boardwalk promenade courtyard patio terrace deck pavilion bakery boutique salon spa hotel lobby gallery "
    "museum aquarium zoo farmyard stable ranch runway catwalk set backdrop tabletop countertop counter "
    "rink slope piste ski_slope racetrack circuit parking_garage gas_station car_wash subway_station "
    "train_station bus_stop livestream_room living_room dining_room meeting_room conference_room dorm "
    "nursery kindergarten campus hospital clinic pharmacy laboratory lab workshop kitchen_counter "
    "club nightclub concert party wedding festival fair carnival stadium helipad "
    "fireplace window doorway door front_door doorstep entrance gate fountain campfire bonfire"
)
PLACES_ZH = (
    "森林 树林 丛林 竹林 公园 海滩 沙滩 海边 大海 湖边 湖面 河边 小河 街道 街头 马路 城市 小镇 村庄 广场 市场 "
    "商场 商店 超市 厨房 客厅 卧室 房间 浴室 办公室 教室 学校 图书馆 摄影棚 咖啡馆 咖啡店 餐厅 饭店 酒吧 花园 "
    "院子 后院 田野 草地 草坪 草原 农场 沙漠 山顶 山谷 雪地 雪山 体育场 球场 操场 游泳池 游乐场 机场 车站 "
    "火车站 站台 地铁站 家里 屋里 车库 仓库 工厂 寺庙 城堡 宫殿 舞台 剧院 大厅 走廊 楼顶 屋顶 阳台 营地 山洞 "
    "天空 太空 直播间 展台 街上 路上 山上 岛上 桥上 山路 公路 高速公路 小路 小巷 巷子 胡同 隧道 峡谷 悬崖 瀑布 "
    "海湾 港口 码头 沙滩上 湖畔 河畔 江边 溪边 田间 稻田 麦田 花田 果园 茶园 庭院 天台 露台 阳光房 烘焙店 面包店 "
    "花店 服装店 便利店 专卖店 美发店 美甲店 健身房 酒店 大堂 画廊 博物馆 水族馆 动物园 马场 跑道 秀场 T台 "
    "停车场 加油站 洗车店 地铁站 公交站 会议室 宿舍 幼儿园 校园 医院 药店 实验室 工作室 书房 阳台上 吧台 "
    "台面 桌面 小区 小区门口 门口 路边 街角 十字路口 商场里 写字楼 办公楼 赛道 滑雪场 冰场 雪道 海面 湖畔"
)
# Scenery with no countable subject ("waves rolling in", "落叶飘飘"): a prompt made of it is
# specific, not vague, though QA has nothing to count.
SCENERY_EN = (
    "wave waves leaves leaf clouds cloud rain snow snowflakes fog mist steam smoke fire flames water sun "
    "sunset sunrise moon stars sky sea ocean river waterfall mountains mountain trees tree forest flowers "
    "grass sand petals bubbles lightning storm wind dust sparks fireworks aurora tide droplets ripples "
    "landscape skyline city cityscape street beach road highway bridge alley lane square plaza park field meadow "
    "desert lake pond valley canyon coast shore harbour harbor pier kitchen room office playground garden"
)
SCENERY_ZH = (
    "海浪 浪花 波浪 树叶 落叶 叶子 云 云朵 雨 雪 雪花 雾 烟 火 火焰 水 水珠 水花 阳光 太阳 月亮 星空 星星 天空 大海 "
    "河流 瀑布 山 树 花 草 沙 花瓣 泡泡 热气 蒸汽 闪电 风 烟花 极光 潮水 涟漪 风景 夜景 街道 海滩 城市"
)
# "in a hurry", "in slow motion": in/at phrases that are not places.
NOT_PLACES_EN = {"hurry", "moment", "while", "row", "circle", "line", "motion", "way", "style", "manner",
                  "mood", "time", "turn", "turns", "unison", "silence", "slow", "front", "love", "fact", "camera",
                  "lens", "viewer", "viewers", "audience", "screen", "mirror", "frame", "distance", "sunset", "sunrise",
                  "dawn", "dusk", "night", "once", "last", "first", "end", "middle", "background", "foreground", "other",
                  "arm", "arms", "hand", "hands", "air", "rain", "sun", "shade", "dark", "light"}
