"""English describing words that may stand between a determiner and its noun ("a big brown dog");
words with these endings count as describing too."""

ADJECTIVES_EN = set(
    "red orange yellow green blue purple pink brown black white grey gray golden silver little small big large "
    "tiny huge young old cute fluffy tall short fat thin happy sad furry shiny wooden colorful colourful "
    "beautiful elderly baby giant playful curious lazy wild spotted striped sleek modern vintage new "
    "cheerful smiling excited adorable pretty handsome elegant stylish brave friendly hungry sleepy "
    "clean soft bright sharp warm cool dark dim crisp glossy matte dramatic gentle subtle moody vivid "
    "natural dynamic quick fast slow calm quiet empty wet dry fresh hot cold iced steaming sleek smooth".split()
)
ADJECTIVE_SUFFIXES = ("y", "ful", "ous", "ish", "less", "ic", "al", "en", "ed", "ive", "able")
