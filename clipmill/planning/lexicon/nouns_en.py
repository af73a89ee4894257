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
    "athlete hawker hygienist batter catcher striker runner jogger skier surfer skateboarder cyclist biker rider driver pilot soldier officer "
    "policeman policewoman police_officer firefighter waiter waitress customer shopper actor actress "
    "presenter influencer vlogger blogger streamer livestreamer backpacker tenant landlord landlady tourist traveler traveller hiker astronaut businessman "
    "businesswoman bride groom fisherman performer wife husband boyfriend girlfriend someone somebody "
    "person people grandson granddaughter cowboy king queen prince princess clown magician model "
    "salesperson shopkeeper cashier patient visitor guest spectator resident villager diner passerby passer-by "
    "onlooker volunteer teammate opponent classmate sibling caregiver housekeeper maid butler receptionist "
    "pharmacist dentist surgeon vet veterinarian rancher cowgirl knight wizard witch pirate ninja samurai diver "
    "golfer wrestler gymnast surfer_girl tennis_player soccer_player basketball_player attendant "
    "flight_attendant stewardess steward conductor usher"
    " plumber electrician cleaner paramedic technician cop builder carpenter manager assistant intern lawyer"
    " programmer detective juggler bartender barman barmaid mailman postwoman mail_carrier delivery_man"
    " deliveryman courier_driver cashier_girl clerk salesman saleswoman saleslady vendor hairstylist"
    " makeup_artist nanny babysitter midwife janitor gardener landscaper lifeguard coach trainer tutor"
    " newlyweds newlywed duo trio quartet quintet twin foursome sommelier dj shepherd ranger farmhand tattooist"
    " client patron commuter pedestrian cyclist_girl triplets quadruplets"
    " barista bartender passenger florist baker butcher jockey neighbour neighbor host hostess mechanic"
    " photographer player swimmer boxer climber gamer youngster bridesmaid nanny courier pedestrian"
    " commuter walker sailor captain lifeguard guitarist pianist violinist drummer dj rapper comedian"
    " gymnast ballerina footballer goalkeeper referee cheerleader scientist engineer artist painter"
    " designer tailor hairdresser barber stylist beautician youtuber tiktoker reporter journalist coach"
    " trainer instructor granny grandmom grandad granddad auntie aunt uncle cousin nephew niece infant"
    " newborn schoolgirl schoolboy monk nun priest guard janitor clerk salesman saleswoman vendor seller"
    " buyer owner boss employee colleague coworker roommate partner fiance fiancee motorcyclist"
    " snowboarder equestrian horseman horsewoman shop_assistant sales_assistant store_clerk delivery_man"
    " delivery_driver deliveryman postman mailman gardener housewife grandchild toddler kid lad gal dude"
    " twin yogi skater hand trucker cabbie cabby chauffeur wrist arm finger"
    # trades and roles: a person named only by what they do
    " warden porter valet concierge doorman bellboy bellhop caddie groundskeeper guide tour_guide optician"
    " librarian welder miner inspector medic paramedic busboy sous-chef pastry_chef fishmonger grocer greengrocer"
    " seamstress cobbler jeweler jeweller locksmith repairman handyman contractor roofer bricklayer architect"
    " accountant banker broker realtor consultant executive ceo founder entrepreneur secretary mayor politician"
    " researcher professor lecturer pupil apprentice trainee umpire newscaster interviewer writer author poet"
    " novelist sculptor illustrator cameraman camerawoman videographer filmmaker choreographer hotelier therapist"
    " physiotherapist masseuse masseur manicurist esthetician cosmetologist dermatologist optometrist pediatrician"
    " caretaker carer security_guard crossing_guard bouncer fireman sheriff beekeeper merchant auctioneer emcee"
    " acrobat busker street_performer cellist saxophonist trumpeter flutist harpist vocalist angler hunter archer"
    " fencer sprinter marathoner quarterback goalie laborer labourer staffer shopgirl housemaid homemaker"
    " tradesman craftsman craftswoman artisan stylist_assistant sales_rep",
    "bicycle": "bicycle bike bmx"
    " e-bike ebike mountain_bike road_bike tandem",
    "car": "car taxi sedan suv jeep sports_car police_car convertible limousine race_car racing_car"
    " van minivan hatchback coupe cab supercar roadster cabriolet wagon crossover automobile vehicle"
    " electric_car campervan camper_van muscle_car"
    " tesla porsche bmw mercedes audi toyota honda ferrari lamborghini volkswagen mustang bentley rolls-royce"
    " maserati cadillac land_rover range_rover",
    "motorcycle": "motorcycle motorbike scooter moped"
    " vespa dirt_bike e-scooter",
    "airplane": "airplane aeroplane plane jet airliner aircraft"
    " airliner seaplane",
    "bus": "bus school_bus double-decker"
    " minibus shuttle_bus trolleybus coach_bus",
    "train": "train locomotive tram subway_train"
    " metro bullet_train subway",
    "truck": "truck lorry pickup_truck fire_truck dump_truck"
    " pickup tow_truck delivery_truck food_truck garbage_truck tanker semi-truck ambulance fire_engine rig"
    " semi big_rig eighteen-wheeler",
    "boat": "boat ship yacht sailboat canoe kayak ferry rowboat"
    " speedboat fishing_boat gondola raft catamaran cruise_ship tugboat dinghy paddleboat",
    "traffic light": "traffic_light stoplight traffic_signal",
    "fire hydrant": "fire_hydrant hydrant",
    "stop sign": "stop_sign",
    "parking meter": "parking_meter",
    "bench": "bench park_bench",
    "bird": "bird sparrow pigeon dove parrot eagle seagull gull duck duckling goose swan owl chicken hen "
    "rooster chick crow robin penguin flamingo hummingbird"
    " parakeet budgie cockatoo macaw heron stork peacock pelican magpie finch kingfisher woodpecker"
    " ostrich hawk falcon vulture seabird songbird gosling lovebird bluebird blackbird mockingbird canary"
    " toucan puffin cockatiel",
    "cat": "cat kitten kitty"
    " tabby siamese ragdoll tomcat calico maine_coon sphynx",
    "dog": "dog puppy pup doggy corgi husky labrador retriever golden_retriever poodle bulldog beagle "
    "shiba chihuahua dachshund terrier german_shepherd dalmatian"
    " pug shih_tzu samoyed akita doberman rottweiler greyhound border_collie collie schnauzer maltese"
    " pomeranian spaniel cocker_spaniel sheepdog hound mutt doggo lab",
    "horse": "horse pony foal stallion mare"
    " colt",
    "sheep": "sheep lamb"
    " ewe ram",
    "cow": "cow cattle calf bull ox",
    "elephant": "elephant",
    "bear": "bear polar_bear grizzly brown_bear bear_cub",
    "zebra": "zebra",
    "giraffe": "giraffe",
    "backpack": "backpack rucksack knapsack schoolbag",
    "umbrella": "umbrella parasol",
    "handbag": "handbag purse"
    " tote tote_bag shoulder_bag crossbody_bag crossbody clutch_bag clutch_purse sling_bag bucket_bag"
    " satchel",
    "tie": "tie necktie",
    "suitcase": "suitcase luggage",
    "frisbee": "frisbee flying_disc",
    "skis": "ski skis",
    "snowboard": "snowboard",
    "sports ball": "ball football soccer_ball basketball volleyball tennis_ball beach_ball rugby_ball "
    "golf_ball baseball"
    " softball",
    "kite": "kite",
    "baseball bat": "baseball_bat",
    "baseball glove": "baseball_glove mitt",
    "skateboard": "skateboard",
    "surfboard": "surfboard",
    "tennis racket": "tennis_racket racket racquet",
    "bottle": "bottle water_bottle wine_bottle"
    " flask",
    "wine glass": "wine_glass wineglass champagne_glass goblet",
    "cup": "cup mug teacup coffee_cup"
    " glass tumbler paper_cup espresso_cup",
    "fork": "fork",
    "knife": "knife",
    "spoon": "spoon",
    "bowl": "bowl",
    "banana": "banana",
    "apple": "apple",
    "sandwich": "sandwich burger hamburger"
    " cheeseburger",
    "orange": "orange",
    "broccoli": "broccoli",
    "carrot": "carrot",
    "hot dog": "hot_dog hotdog",
    "pizza": "pizza",
    "donut": "donut doughnut",
    "cake": "cake cupcake birthday_cake"
    " cheesecake",
    "chair": "chair armchair",
    "couch": "couch sofa"
    " loveseat",
    "potted plant": "potted_plant houseplant plant_pot",
    "bed": "bed",
    "dining table": "dining_table table"
    " coffee_table kitchen_table picnic_table"
    # COCO has no desk: a desk is annotated as a dining table (as the benchmark sets read "书桌")
    " desk writing_desk office_desk work_desk standing_desk computer_desk school_desk study_desk",
    "toilet": "toilet",
    "tv": "tv television tv_set big_screen",
    "laptop": "laptop notebook_computer"
    " macbook",
    "mouse": "computer_mouse wireless_mouse gaming_mouse optical_mouse bluetooth_mouse",
    "remote": "remote remote_control",
    "keyboard": "keyboard",
    "cell phone": "phone smartphone cellphone cell_phone mobile_phone iphone"
    " mobile",
    "microwave": "microwave",
    "oven": "oven",
    "toaster": "toaster",
    "sink": "sink",
    "refrigerator": "refrigerator fridge",
    "book": "book"
    " novel textbook storybook comic_book",
    "clock": "clock",
    "vase": "vase",
    "scissors": "scissors",
    "teddy bear": "teddy_bear teddy plush_bear"
    " plushie stuffed_bear",
    "hair drier": "hair_drier hair_dryer hairdryer blow_dryer",
    "toothbrush": "toothbrush",
}
# Subjects worth naming in the plan that a COCO detector cannot check.
OTHER_SUBJECTS_EN = (
    "robot panda fox rabbit bunny tiger lion deer monkey squirrel butterfly fish dragon unicorn dinosaur "
    "wolf pig goat hamster turtle tortoise snake frog whale dolphin shark kangaroo koala alien ghost "
    "superhero animal creature pet toy doll jar box gift balloon mouse bat rope_toy"
    # Compounds whose last noun is a COCO word but whose thing is not that class: a dog bed is a
    # cushion, a car seat is no car, a table lamp no table, a bookshelf no book
    " dog_bed cat_bed pet_bed puppy_bed dog_sofa pet_sofa dog_couch cat_tree car_seat baby_seat booster_seat"
    " child_seat infant_seat bike_seat bicycle_seat baby_car_seat table_lamp desk_lamp bedside_lamp bookshelf"
    " bookcase book_shelf bookstand book_stand tablecloth table_cloth table_runner bed_sheet bedsheet bedspread"
    " nightstand bedside_table night_table side_table end_table dressing_table changing_table"
    " pair_of_glasses eyeglasses reading_glasses camera_car camera_truck camera_boat chase_car car_wash"
    " cake_batter pancake_batter waffle_batter tempura_batter"
    " table_tennis table_football foosball_table pool_table billiard_table bed_frame"
)
IRREGULAR_PLURALS = {
    "person": "people", "man": "men", "woman": "women", "child": "children", "mouse": "mice",
    "goose": "geese", "sheep": "sheep", "fish": "fish", "calf": "calves", "knife": "knives", "wife": "wives",
    "ox": "oxen", "cattle": "cattle", "deer": "deer", "scissors": "scissors", "skis": "skis",
    "luggage": "luggage", "broccoli": "broccoli", "wolf": "wolves", "shelf": "shelves",
    "glass": "glasses", "sunglasses": "sunglasses", "jeans": "jeans", "fries": "fries", "chess": "chess",
    "loaf": "loaves", "tomato": "tomatoes", "mango": "mangoes", "ewe": "ewes", "tooth": "teeth",
}
# Nouns that are also common verbs or adjectives ("ducks under", "an orange cat", "ties a
# knot"): counted only with a determiner or number in front.
NEEDS_DETERMINER_EN = {"duck", "tie", "orange", "remote", "book", "bowl", "train", "ship", "sink", "ski",
                        "plane", "cup", "fork", "bat", "box", "pet", "toy", "cook", "model", "bike", "jet",
                        "table", "bull", "crow", "dove", "pup", "kid", "teen", "jar", "pitcher", "phone",
                       "hand", "lab", "glass", "watch", "trainer", "cap", "pan", "pot", "stand", "counter",
                       "sign", "flag", "brush", "tank", "ram", "cab", "coach", "rig", "semi", "sub", "drum", "mobile",
                       "cream", "toner", "plate", "ring",
                       "compact", "foundation", "product", "tea", "wine", "milk", "juice", "rose", "arm",
                       "flower", "tire", "wheel", "hose", "ladder", "rope", "seal", "product", "dish",
                       # verbs or adjectives first ("she blushes", "combs her hair", "key moment", "lime green")
                       "blush", "comb", "whisk", "swing", "key", "map", "skewer", "lime", "salmon", "straw",
                       "pepper", "corn", "candy", "guide"}
