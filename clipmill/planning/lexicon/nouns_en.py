"""English nouns: the words that name each COCO class (the classes QA's detector can check),
the subjects worth naming that it cannot check, irregular plurals, and the nouns that are
also verbs or adjectives.

Multi-word nouns use "_" ("fire_truck"). Plurals are derived (`tables.plural`) except the
ones in `IRREGULAR_PLURALS`.
"""

COCO_WORDS_EN = {
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
OTHER_SUBJECTS_EN = (
    "robot panda fox rabbit bunny tiger lion deer monkey squirrel butterfly fish dragon unicorn dinosaur "
    "wolf pig goat hamster turtle tortoise snake frog whale dolphin shark kangaroo koala alien ghost "
    "superhero animal creature pet toy doll jar box gift balloon mouse bat"
)
IRREGULAR_PLURALS = {
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
