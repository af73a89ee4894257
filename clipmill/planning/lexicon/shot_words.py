"""Words of the camera (moves, framing, lens) and of the look (light, style, finish). A clause
made of them is no action and no subject: it is kept as written in the generator prompt, and
the plan's default look leaves out whatever such a clause already says."""
import re

CAMERA_EN = re.compile(
    r"\b(?:camera|shot|close-?ups?|close\s+up|push(?:es)?[- ]in|pull(?:s)?[- ](?:back|out)|zoom(?:s|ing|ed)?(?:[- ](?:in|out))?|"
    r"pans?\s+(?:left|right|across|slowly|over|up|down|around)|panning|pans\b|tilt(?:s|ing)?\s+(?:up|down)|dolly|tracking|"
    r"orbit(?:s|ing)?|aerial|overhead|top-down|bird's-eye|low-angle|high-angle|low\s+angle|high\s+angle|macro|"
    r"wide\s+angle|slow[- ]motion|time-?lapse|handheld|steadicam|pov|framing|frame|angle|lens|focus|"
    r"depth\s+of\s+field|bokeh|9:16|16:9|vertical|horizontal|cinematography|drone\s+shot|360|rotation|revolving|"
    r"turntable\s+(?:shot|spin)|unboxing)\b",
    re.IGNORECASE,
)
# "smiles at the camera": the camera is what the subject looks at, not a camera direction.
CAMERA_AS_OBJECT_EN = re.compile(r"\b(?:at|to|toward|towards|into|for|in\s+front\s+of|facing)\s+the\s+camera\b",
                                 re.IGNORECASE)
LOOK_EN = re.compile(
    r"\b(?:lighting|light|lights|lit|sunlight|spotlights?|backlight|backlit|rim\s+light|candlelight|neon|glow|glowing|"
    r"golden\s+hour|cinematic|photorealistic|realistic|hyperrealistic|4k|8k|hdr|style|aesthetic|grading|tones?|"
    r"mood|atmosphere|reflections?|details?|backdrop|background|textures?|finish|video|footage|commercial|"
    r"advert(?:isement)?|shadows?|contrast|saturated|pastel|minimal(?:ist)?|colou?rs?|palette|sharp|crisp|"
    r"quality|resolution|look|vibe|ambience|ambiance)\b",
    re.IGNORECASE,
)
LIGHT_EN = re.compile(r"\b(?:light|lighting|lights|lit|sunlight|spotlights?|backlit|candlelight|neon|glow|golden\s+hour|"
                      r"sunset|sunrise|dawn|dusk|night)\b", re.IGNORECASE)
CAMERA_ZH = re.compile(r"(?:镜头|特写|近景|远景|全景|中景|推近|拉远|推镜|拉镜|摇镜|运镜|环绕拍|俯拍|仰拍|航拍|跟拍|慢镜头|慢动作|"
                       r"延时|微距|手持|机位|构图|景深|虚化|视角|竖屏|横屏|拍摄|环绕)")
CAMERA_AS_OBJECT_ZH = re.compile(r"(?:对着|向|朝|面对|冲着|看向|看着|望向|走向|跑向)镜头|镜头前")
LOOK_ZH = re.compile(r"(?:阳光|月光|夕阳|晨光|霓虹|烛光|灯光|光线|光影|打光|侧光|逆光|顶光|自然光|柔光|棚拍|质感|风格|色调|画质|高清|4K|电影感|氛围|背景|"
                     r"反光|细节|视频|广告|光泽|色彩|清晰|鲜艳|明亮)")
LIGHT_ZH = re.compile(r"(?:光|夜|黄昏|日落|日出|清晨|傍晚)")
# "Setting: ...", "Opening hook: ...", "场景：...": a labelled sentence is kept whole, read by its
# label; any other "X:" ("Product shot:", "特写：") is a framing, and what follows it is the shot.
LABEL_RE = re.compile(r"^\s*(?P<label>[A-Za-z][A-Za-z -]{1,24}|[\u4e00-\u9fff]{1,6})\s*[:：]\s*")
SETTING_LABELS = {"setting", "scene", "location", "background", "place", "场景", "地点", "背景", "环境"}
LOOK_LABELS = {"style", "lighting", "light", "look", "mood", "colour", "color", "colours", "colors", "tone",
               "atmosphere", "aesthetic", "风格", "光线", "灯光", "色调", "氛围", "画风", "质感"}
CAMERA_LABELS = {"camera", "shot", "framing", "camera movement", "camera motion", "lens", "angle", "镜头", "运镜",
                 "景别", "机位", "拍摄", "视角"}
NEGATIVE_LABELS = {"negative", "negative prompt", "avoid", "no", "exclude", "负面", "负面提示", "不要", "避免", "禁止"}
# What is heard or written over the clip; a label such as "Opening hook:" or "结尾：" introduces part
# of the shot itself and is read like any other framing.
INFO_LABELS = {"music", "audio", "caption", "text", "voiceover", "voice-over", "title", "duration", "cta", "音乐",
               "配乐", "字幕", "文案", "配音", "标题", "时长"}
KNOWN_LABELS = SETTING_LABELS | LOOK_LABELS | CAMERA_LABELS | NEGATIVE_LABELS | INFO_LABELS
