"""The negative prompt a plan gets when the job names none, per language: Wan's customary list
plus what QA rejects (duplicated or merging subjects, flicker)."""
from __future__ import annotations

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


def default_negative_prompt(language: str) -> str:
    return DEFAULT_NEGATIVE_PROMPT_ZH if language == "zh" else DEFAULT_NEGATIVE_PROMPT_EN


def with_absent(negative_prompt: str, absent_words: list[str], language: str) -> str:
    """The negative prompt with what the text says is absent ("without a dog": dog) added, once each."""
    words = [w for w in dict.fromkeys(absent_words) if w and w not in negative_prompt]
    if not words:
        return negative_prompt
    joiner = "，" if language == "zh" else ", "
    return joiner.join([negative_prompt.rstrip(",，")] + words) if negative_prompt else joiner.join(words)
