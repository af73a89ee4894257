"""What the text encoders cut off a prompt, as a record (issue #23 item 9): which encoder, which
text, how much was kept of what was given; and the report's summary shows it."""
from clipmill.prompt_limits import ENCODERS, PromptCut, clip_prompt_cuts, estimated_tokens, prompt_cut
from clipmill.report import prompt_cuts, render_markdown_summary

WAN, CLIP = ENCODERS


def test_a_short_prompt_is_not_cut():
    short = "A boy throws a yellow frisbee to a brown dog in a sunny park"
    assert prompt_cut(short, CLIP) is None and prompt_cut(short, WAN) is None
    assert clip_prompt_cuts(short, [short], "blurry, low quality") == []


def test_a_cut_says_how_much_was_kept_of_what_was_given():
    text = " ".join(["word"] * 100)  # 100 tokens: past CLIP's 75, within Wan's 512
    cut = prompt_cut(text, CLIP, label="prompt")
    assert cut == PromptCut(encoder=CLIP.name, text="prompt", max_tokens=75, tokens_given=100,
                            characters_given=len(text), characters_kept=75 * 5)
    assert text[:cut.characters_kept].split() == ["word"] * 75
    assert cut.to_dict() == {"encoder": CLIP.name, "text": "prompt", "tokens_kept": 75, "tokens_given": 100,
                             "characters_kept": 375, "characters_given": 499}
    assert cut.sentence() == (f"prompt cut by {CLIP.name}: it reads about 75 of about 100 tokens, "
                              "375 of 499 characters")
    assert prompt_cut(text, WAN) is None


def test_each_encoder_is_judged_on_the_text_it_reads():
    """Wan reads the plan's segment prompts and the negative prompt; CLIP the prompt as written."""
    prompt = "海边" * 400  # 800 CJK characters: about 800 Wan tokens, 2000 CLIP tokens
    segments = ["a short first segment", "海边" * 300]
    cuts = clip_prompt_cuts(prompt, segments, negative_prompt="blurry")
    assert [(c.encoder, c.text) for c in cuts] == [(WAN.name, "segment 2 prompt"), (CLIP.name, "prompt")]
    wan_cut, clip_cut = cuts
    assert wan_cut.characters_given == 600 and wan_cut.characters_kept == 512 and wan_cut.tokens_given == 600
    assert clip_cut.characters_given == 800 and clip_cut.characters_kept == 30 and clip_cut.tokens_given == 2000
    assert estimated_tokens("海边 walks", CLIP) == 6  # 2.5 a CJK character, 1 an English word


def test_a_100000_character_prompt_is_recorded_kept_against_given():
    prompt = ("a dog runs across the park " * 4000)[:100_000]
    [clip_cut] = clip_prompt_cuts(prompt, ["a dog runs across the park"], "")
    assert clip_cut.characters_given == 100_000 and clip_cut.characters_kept < 500
    assert clip_cut.tokens_given > 20_000 and clip_cut.max_tokens == 75


def test_the_report_summary_lists_cut_prompts():
    cut = prompt_cut(" ".join(["word"] * 100), CLIP, label="prompt").to_dict()
    report = {"name": "b", "counts": {"accepted": 2}, "jobs": [
        {"key": "long_one", "status": "accepted", "attempts": [], "plan": {"prompt_cuts": [cut]}},
        {"key": "short", "status": "accepted", "attempts": [], "plan": {"prompt_cuts": []}},
        {"key": "unplanned", "status": "error", "attempts": [], "plan": None, "reason": "x: file not found"},
    ]}
    assert prompt_cuts(report) == {"long_one": [cut]}
    markdown = render_markdown_summary(report)
    assert "| job | text cut by | kept of given (tokens, about) | kept of given (characters) |" in markdown
    # Names from a spec are escaped (the dashboard renders markdown as HTML).
    assert "| long\\_one | prompt: CLIP \\(gate and text-video check\\) | 75 of 100 | 375 of 499 |" in markdown
    assert "short" not in markdown
