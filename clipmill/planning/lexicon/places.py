"""Place words: what a location phrase may name. English multi-word places use "_"."""

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
