"""Where others of a class are normally in view, so that a count written is only the fewest a
correct clip shows: crowds, public places and the trades that serve people, and for people anywhere
but a home (`PRIVATE_PLACES`); car parks (for vehicles) and harbours (for boats). Vehicles in
traffic are read with `confidence._TRAFFIC`."""
import re

# Crowds, and places and events full of people ("a night market", "at a wedding", "on the bus")
CROWDS = re.compile(
    r"\b(?:night\s+market|market|bazaar|crowd(?:ed|s)?|busy|bustling|packed|festival|concert|parade|rush\s+hour|"
    r"stadium|mall|shopping\s+street|fair|carnival|street\s+party|nightclub|subway\s+car|audience|spectators|"
    r"(?:leads?|teach(?:es)?|instructs?)\s+(?:a|the|her|his|their)\s+(?:\w+\s+)?class|"
    r"(?:leads?|guides?|shows?|takes?)\s+(?:a|the|her|his|their)\s+(?:\w+\s+)?(?:group|tour)\b|"
    r"(?:at|during)\s+(?:a|the)\s+(?:\w+\s+)?(?:game|match|wedding|party|ceremony|graduation|conference|lecture)|"
    r"(?:the|a)\s+(?:\w+\s+)?(?:race|marathon)|airport|terminal|train\s+station|(?:aisle|cabin)\s+of\s+(?:a|an|the)\s+(?:\w+\s+)?(?:plane|airplane|jet|"
    r"train|bus))\b|"
    r"\b(?:on|aboard|in)\s+(?:a|the)\s+(?:\w+\s+)?(?:bus|train|subway|tram|ferry)\b|"
    r"\b(?:restaurant|diner|cafeteria|food\s+court)\b(?!\s+kitchen)|"
    r"夜市|集市|菜市场|市场|人群|人来人往|熙熙攘攘|人山人海|热闹|拥挤|人潮|演唱会|音乐节|庙会|高峰|商场|步行街|地铁车厢|"
    r"婚礼|派对|聚会|比赛现场|观众|广场舞|广场上跳舞|(?:拦下|拦住|截停)[^，。,]{0,4}(?:电动车|电瓶车|摩托|自行车|单车)|马拉松|机舱|车厢里|机场|候机|火车站|地铁站|"
    r"(?:公交车?|巴士|大巴|地铁|火车|高铁|动车|轮渡)(?:上|里)|(?:餐厅|饭店|餐馆|食堂|大排档)(?!后厨|厨房)",
    re.IGNORECASE)
# Where strangers are normally in view, a count of people is only the fewest: "a girl waits at the
# bus stop" is good with others waiting too. Public places people pass through or are served in...
PUBLIC_PLACES = re.compile(
    r"\b(?:street|streets|sidewalk|pavement|crosswalk|zebra\s+crossing|intersection|crossroads?|bus\s+stop|"
    r"bus\s+shelter|(?<!gas\s)(?<!charging\s)(?<!docking\s)station|platform|subway|metro|airport|terminal|escalator|queue|"
    r"shop|store|supermarket|grocery|boutique|bakery|caf[eé]|coffee\s+shop|coffeehouse|tea\s+shop|(?:a|the)\s+(?:\w+\s+)?bar|"
    r"pub|restaurant|diner|canteen|cafeteria|food\s+court|food\s+stall|mall|market|gym|fitness\s+(?:center|centre|studio)|"
    r"swimming\s+pool|public\s+pool|barbershop|barber\s+shop|hair\s+salon|salon|hospital|clinic|pharmacy|"
    r"classroom|campus|lecture\s+hall|lobby|reception|front\s+desk|checkout|ticket\s+(?:office|booth)|bank|"
    r"post\s+office|library|museum|zoo|theme\s+park|amusement\s+park|ski\s+(?:slope|resort)|wedding|"
    r"(?:town|city|public|market)\s+square|plaza|(?:basketball|tennis|volleyball|badminton)\s+court|(?:football|soccer)\s+"
    r"(?:pitch|field)|harbou?r|marina|port|office|open-plan|cubicles?|bride|groom|newlyweds?|petting\s+(?:farm|zoo)|"
    # street furniture says the shot is in a street: "pauses next to a fire hydrant"
    r"alley|alleyway|fire\s+hydrant|parking\s+meter|traffic\s+lights?|stop\s+sign|car\s+wash|"
    r"wait(?:s|ed|ing)?\s+for\s+(?:a|the|her|his|their)\s+(?:\w+\s+)?(?:bus|train|subway|tram|taxi|ride))\b|"
    r"街上|街头|街边|马路|路口|斑马线|人行道|公交站|车站|站台|地铁|机场|电梯|扶梯|排队|"
    r"商店|小店|店里|店内|门店|超市|便利店|面包店|烘焙店|咖啡馆|咖啡店|奶茶店|茶饮店|酒吧|餐厅|饭店|餐馆|食堂|"
    r"商场|市场|菜场|健身房|游泳馆|泳池|理发店|美发店|发廊|美甲店|医院|诊所|病房|药店|教室|校园|课堂|"
    r"大堂|前台|柜台|收银台|银行|邮局|图书馆|博物馆|动物园|游乐园|滑雪场|婚礼|婚宴|广场|球场|港口|码头|办公室|写字楼|工位|"
    r"新郎|新娘|探店|(?<![酒])店(?![长主员家小])|等(?:公交|地铁|车|火车|高铁)|小巷|巷子|胡同|消防栓|红绿灯|洗车房|洗车店", re.I)
# And trades whose work is serving or watching over others, who are then in view ("a barber
# cuts an old man's hair": others wait; "a chef tosses noodles": cooks work behind him).
SERVING_TRADES = frozenset(
    "waiter waitress server busboy barista bartender barman barmaid sommelier cashier clerk shopkeeper salesperson "
    "salesman saleswoman saleslady vendor hawker seller barber hairdresser hairstylist stylist manicurist chef cook "
    "sous-chef receptionist concierge doorman bellboy bellhop usher guard bouncer policeman policewoman cop officer "
    "coach trainer instructor teacher lecturer professor tutor nurse doctor surgeon dentist hygienist pharmacist "
    "paramedic medic conductor stewardess steward attendant guide lifeguard referee umpire busker emcee tailor "
    "goalkeeper goalie striker batter pitcher catcher quarterback "
    "服务员 服务生 侍者 侍应生 传菜员 店小二 咖啡师 咖啡店员 奶茶店员 调酒师 调饮师 收银员 店员 导购 导购员 售货员 "
    "售货阿姨 营业员 柜员 柜姐 柜哥 摊主 小贩 商贩 摊贩 理发师 美发师 发型师 造型师 美甲师 厨师 大厨 主厨 帮厨 "
    "厨子 厨师长 前台 礼宾员 门童 迎宾 保安 警卫 门卫 交警 民警 辅警 警察 协管员 交通协管员 城管 教练 教练员 "
    "健身教练 私教 老师 教师 瑜伽老师 教授 护士 医生 大夫 医师 医护人员 药剂师 售票员 检票员 安检员 列车员 "
    "乘务员 空姐 导游 领队 救生员 裁判 裁缝 裁缝师 守门员 门将 球员 前锋 老板娘 店长 店主".split()
) | {"store clerk", "shop assistant", "sales assistant", "pastry chef", "security guard", "crossing guard",
     "police officer", "flight attendant", "tour guide", "street performer", "dental hygienist"}
# Places full of a class: other cars in a car park, other boats in a harbour
CAR_PARK = re.compile(r"\b(?:parking\s+(?:lot|structure)|car\s+park|car\s+dealership)\b|停车场|4S店", re.I)
HARBOUR = re.compile(r"\b(?:harbou?r|marina|port|dock|docks|pier|wharf|jetty|quay)\b|港口|码头|港湾|渔港", re.I)
# A home, or a room or seat of one: only here does "a woman does X" say nobody else is in view.
# Anywhere else (a road, a beach, a summit, a doorstep, a workplace, or no place said) the people
# named are the fewest a correct clip shows.
PRIVATE_PLACES = re.compile(
    r"\b(?:(?:at|in|inside|into)\s+(?:the\s+|a\s+|his\s+|her\s+|their\s+|my\s+|our\s+)?(?:\w+\s+)?(?:home|house)|apartment|flat|bedroom|living\s+room|lounge|kitchen|bathroom|dining\s+room|nursery|study|"
    r"attic|basement|garage|driveway|porch|balcony|backyard|back\s+yard|front\s+yard|patio|couch|sofa|bed|crib|"
    r"high\s+chair|armchair|recliner|hotel\s+room|(?:his|her|their|my)\s+(?:\w+\s+)?room)\b|"
    r"家里|家中|自家|在家|回家|客厅|卧室|房间|屋里|厨房|卫生间|洗手间|浴室|浴缸|阳台|书房|院子|沙发|床上|床边|床头|被窝|"
    r"车库|餐桌旁|饭桌", re.I)
