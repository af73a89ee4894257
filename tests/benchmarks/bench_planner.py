"""How often the rules planner gets a prompt right, field by field and rule by rule, on prompts written for it.

The prompts are in `planner_prompts/`: `dev.yaml` (the planner was tuned on these),
`holdout.yaml` (written at the same time, before any tuning; scored blind once, then its five
failures were seen and fixed by general rules), `holdout2.yaml` (written after that; scored
blind once, 60%, then its failures were fixed by general rules), `holdout3.yaml` (written
after that, scored blind once, `results/planner_holdout3_blind.json`; its two failures were
later seen and fixed by general rules), `holdout4.yaml` (48 prompts written after holdout3's
results were committed; scored blind once, `results/planner_holdout4_blind.json`, 89.6% all
fields right, then the general causes of its failures were fixed), and, for issue 22 item 4
(planning that never sets a wrong rule), `holdout5.yaml` (66 prompts, the development set) and
`holdout6.yaml` (65 prompts, the report set), both written and committed before any rule change
of that work. Each prompt states what a correct plan holds; a field is scored only where the
prompt states it. holdout5/6 may give a count as "N+" (several, the number not stated) and
always state the interaction, with `interaction_ok` for other kinds a correct clip also passes.

Two measures:
- per field (`accuracy`, `all_fields_right`): classes, counts, absent, actions in order,
  interaction, vague warning, kept phrases, subjects outside COCO.
- per rule (`expectations`): every rule QA would enforce (each class in `Expectations.classes`
  is two, present and its count; each forbidden class; the interaction) against every item
  the case states (presence of each class, each stated count, each absent class, the
  interaction). `wrong_share_of_enforced` = enforced rules that are wrong / enforced (target
  <= 2%: a wrong rule rejects a good clip); `kept_share_of_true` = true items enforced /
  true items (target >= 90%). Rules left in `Expectations.unchecked` count as not kept.
  The older sets state a bare plural as a count of 2; with counts unchecked when unstated,
  their count items read as missed, so their per-field scores dropped (dev 1.0 -> 0.934).

History (issue 22 item 4). Each set below was written and committed before it was scored, and
scored blind exactly once (`results/planner_<set>_blind.json`, holdout6 also `_after.json`); its
failures were read only after that, and their general causes fixed before the next set was
written, so each blind number measures the code of its moment. wrong = enforced rules that are
wrong / enforced; kept = true items enforced / true items.

    set        when scored                           wrong              kept
    holdout5   before any change (dev set after)     19/222  8.6%       201/216 93.1%
    holdout6   before any change                     17/207  8.2%       190/201 94.5%
    holdout6   after the work on holdout5 (report)    6/197  3.0%       191/201 95.0%
    holdout7   after the holdout6 fixes              11/175  6.3%       162/184 88.0%
    holdout8   after the holdout7 fixes               5/181  2.8%       171/181 94.5%
    holdout9   after the holdout8 fixes               7/151  4.6%       143/154 92.9%
    holdout10  after the holdout9 fixes               6/190  3.2%       182/206 88.3%
    holdout11  after the holdout10 fixes              6/192  3.1%       183/201 91.0%
    holdout12  after the holdout11 fixes              9/206  4.4%       195/212 92.0%
    holdout13  after the holdout12 fixes              5/191  2.6%       183/204 89.7%
    holdout14  final code (of that work)              7/213  3.3%       202/214 94.4%
    holdout15  after the holdout14 fixes, setting     3/186  1.6%       178/200 89.0%
               furniture and the confidence table
    holdout16  after the holdout15 fixes (compound    8/203  3.9%       191/226 84.5%
               nouns, desks, trades, empty places)
    holdout17  2026-12-07, after the judgement work  22/226  9.7%      203/257 79.0%
               (a dog stand, views from above)
    holdout18  after the 'at least N' count (a27cb2e) 20/224  8.9%      196/236 83.1%
    holdout19  after the holdout18 fixes (01cb80b)    45/260 17.3%      205/253 81.0%
    holdout20  after the holdout19 fixes (083516c)    42/216 19.4%      167/202 82.7%
    holdout21  after the holdout20 fixes (89a3162)    31/241 12.9%      198/257 77.0%
    holdout22  after the holdout21 fixes (b7e7c49)    37/252 14.7%      194/241 80.5%

holdout15 (67 prompts, 32 Chinese) was written and committed before any rule change of that last
work (setting furniture, holdout14's causes), and scored once on its final code
(`results/planner_holdout15_blind.json`). Its 3 wrong rules: '书桌' (a desk) read as a book and a
table (noticed while testing the furniture rule before the scoring, left unfixed so as not to
tune on the set), and '服务员把一盘菜端上餐桌' counting one person in what is likely a restaurant. Its
kept share is under 90%: setting furniture (a chair sat on, a bench, a desk) is unchecked by
design, and the set states such furniture as present (10 of its 22 missed items).

holdout16 (74 prompts, 36 Chinese) was written and committed before any rule change of the work on
holdout15's failures, and scored once on its final code (`results/planner_holdout16_blind.json`).
Its writer knew the compounds the fixes were aimed at (bookshelf, table lamp, dog bed, car seat,
书桌), so a few of its prompts test them directly. Both targets missed. Its 8 wrong rules: a van
read as a car ('unloads boxes from a white van'); a person counted exactly where others may be
in view ('教练在游泳池边指导学员', '一个男人在健身房里举哑铃', '马路上车来车往，一个交警', the last also
one car in traffic '车来车往'); '在书架前挑选一本小说' one book though the shelf holds many;
'搬上车的后备箱' read as getting into the car (enter), the car itself missed. Its 35 missed items:
furniture as setting and desks (unchecked by design, 12), presence lost with an unsure count (birds,
plants, books, a tie 'ties his tie' counted twice), handovers between two people (QA needs the
object), 'a man does not take the call and puts his phone' (the phone lost to the negated
action), 'pours red wine' (no bottle implied).

holdout17 (80 prompts, 40 Chinese) was written blind on 2026-12-07 by someone who had read only this
docstring and holdout15/16, and scored once (`results/planner_holdout17_blind.json`). Its writer
stated a person count as exact only where the text leaves no room for others ("1+" for a chef in
a kitchen, a surfer at sea, a courier in traffic, newlyweds cutting their cake), where the
earlier sets stated such a prompt's one person as exactly one. 15 of its 22 wrong rules are that:
an exact count of people in a place where others are normally in view, which QA fails when a
second person stays in view. The others: 'a child's bed' counting a child, 'a semi truck' also
a car, '碗筷' one bowl, '十字路口...红绿灯' one traffic light, '公园长椅上没人坐' read as nobody in view
(its truth states no absence). The next step it points to is a count
kind QA has not got: "at least N" (fail below N, not above) for people in such places, which
keeps the under-count check that catches "four people play basketball" filmed with two.

The 'at least N' count (`Expectations.at_least`, QA fails below N, never above) answers holdout17's
main cause: a person counted exactly where others are normally in view (a public place, a crowd,
a serving trade; vehicles in traffic, boats in a harbour). holdout17 went from 22 to 4 wrong rules
with it. It spends kept items on the older sets, whose truths count such people exactly ("a chef
chops carrots": 1; holdout17 on says "1+"): dev..holdout16 went from 92.0% to 87.2% kept, with 4
wrong rules of 2942 left (0.14%). holdout18 (80 prompts, its writer shown the families of issue
22, including two phrasings this work then fixed: '没人坐' and 'nobody is using them') scored
8.9% wrong on the code of a27cb2e. holdout19 and holdout20 were written by writers told to make
a third of their prompts tricky for a rules planner in ways of their own (possessives, pictures of
things, quantities by container, what a clause says went away or is awaited, owners, 'instead
of'); each was scored once on the code that had fixed the previous set's causes: 17.3% and 19.4%
wrong. About half of their wrong rules are exact person counts their writers read as "N+" (a
mechanic under a truck, an old couple in a park, a skateboarder over a park bench): with every
person count made a floor, holdout20 would read 11.7% wrong and 77.7% kept, so neither policy
meets the targets there. holdout21 was written blind for the next session, unscored.

holdout21 (80 prompts, 41 Chinese or mixed) was scored once, blind, on 89a3162: 31 of 241 enforced
rules wrong (12.9%), 77.0% kept (`results/planner_holdout21_blind.json`). 21 of its 31 wrong rules
were exact person counts its writer read as "N+" (a courier at a front door, a hiker on a summit, a
girl riding along a beach), the same family as holdout18-20's. Its writer counted people exactly
only at home (a kitchen, a living room, a couch, a bed) or where the text leaves nobody else. The
planner now does the same: a person count is the fewest in view everywhere but a home, a close-up
of hands, or where the text says they are alone or the place is empty (`lexicon/company.py`
`PRIVATE_PLACES`). On every set, with holdout17-21 all seen: wrong 69/3826 (1.8%) -> 42/3729
(1.1%); dev..holdout16 4 (0.15%) either way, kept 87.2% -> 74.2% (their labels count people
exactly in parks and streets, which a floor no longer keeps); holdout17..20 7.4% -> 4.3% wrong, kept
82.6% -> 78.0%. The other causes, fixed by general rules: one each for a group ("each with a
skateboard"), a race of a thing ("龙舟赛") and rough numbers ("十几条"), a classifier said twice
("一碗碗"), a measure heading a list ("一大盘切好的西瓜、橙子和苹果"), a thing of each of an
unnumbered group ("拖着行李箱的旅客"), a person's plural-looking word before an object ("a busboy
buses the tables"), someone called on the phone, a scooter (kick or motor), a car park full of
buses, "in a diner" as a place.

holdout22 (80 prompts, 40 Chinese or mixed) was written blind in the same session, after the
holdout21 fixes were committed, and scored once on b7e7c49: 37 of 252 wrong (14.7%), 80.5% kept
(`results/planner_holdout22_blind.json`). Its writer invented families of its own: comparisons
("heavier than his son", "比篮球还大"), reported speech ("tells the camera her first customer bought
three suitcases", "说她老公昨天把车开去洗了"), things made to look like an animal (towel swans), a
pair of glasses, a window's glass, a car wash, things held by a group of no number, a list after a
counted item ("三个碗和勺子"), a hypothetical, a relative clause's owner. The general causes were
then fixed (holdout22 17/231 wrong, 7.4%, now seen). Two blind scores in one session, 12.9% and
14.7%, on sets whose writers were told to be tricky in ways of their own: each new writer finds
new families, so the target (<= 2% wrong on unseen prompts) is not met by the rules planner.

holdout6's aggregate numbers were seen once, by mistake, half-way through the work on holdout5
(7 of 197 wrong, 94.5% kept); its failures were not. Blind on sets never seen, the planner had
stayed at 2.6-6.3% wrong enforced rules, above the 2% target, until holdout15 (1.6%, but 89.0%
kept), and holdout16 went back to 3.9% (84.5% kept). Every set has been seen since;
`results/planner.json` scores all 21 sets on the final code: 69 of 3826 enforced rules wrong
(1.8%), 86.2% of true items kept; dev..holdout16 4 of 2942 (0.14%), 87.2% kept; holdout17..20
65 of 884 (7.4%), 82.6% kept (optimistic: all four have been seen).
holdout14's 7 wrong rules were fixed by general causes ('his sheep', '姐妹两个', '一直没有下车',
people riding a bus or in a restaurant); holdout15's by the work scored on holdout16: '书桌' (a
thing right before another says what the second is for; a desk is an unchecked dining table),
'两位老太太在广场上跳舞' (square dancing puts others in view: 'holdout' counts such a prompt exactly
and now misses it), '交通协管员在路口拦下一辆电动车' (a stopped two-wheeler brings its rider).
Left: '服务员把一盘菜端上餐桌' (a waiter serving likely has diners in view) and holdout16's 8.

The confidence scale as a lever (`--by-confidence`; item = one enforced or unchecked rule, a
class being two, presence and count, which QA enforces together at the lower of their two
confidences). Measured two ways, on the sets already seen, before holdout15 was scored:

1. blind: holdout7..14, each on the code of the commit it was scored blind on (`--code` a
   worktree of it; results/planner_by_confidence_blind.json), 1556 true items:

    confidence  rules                                   items  right  precision
    0.9         stated (number, article, plain noun)     1326   1284   0.968
    0.85        body part ("hands knead": one person)       8      6   0.75
    0.8         collective, implied, interaction          149    138   0.926
    0.75        pronoun, trade by word shape, order        16     15   0.938
    0.6         Chinese public noun, time clause, ...      34     22   0.647
    0.5         setting, awaited, hedged, uncheckable      17     14   0.824
    0.4         crowd place, negated action                27     14   0.519
    0.3         count not stated                           84     42   0.5

    threshold   enforced  wrong        kept
    0.6         1533      68  4.4%     92.5%
    0.7 (0.75)  1499      56  3.7%     91.3%    <- ENFORCE_CONFIDENCE then and now
    0.8         1483      55  3.7%     90.4%
    0.85        1334      44  3.3%     82.9%
    0.9         1326      42  3.2%     82.5%

   The wrong enforced rules (44 classes or interactions) sit at 0.9 (30: 14 person counts, 12
   things named but not in view, 4 other counts) and in the interaction (8, at 0.8). No threshold
   separates them from the right ones: 0.8 cuts 1 wrong item for 0.9% of the kept ones, 0.85 cuts
   12 and drops kept below 90%.
2. seen, final code (results/planner_by_confidence.json, dev..holdout14, 2810 true items):
   0.7 -> 2/2574 wrong (0.08%), 90.7% kept; 0.8 -> 1/2554, 90.0% kept; 0.85 -> 1/2298, 81.7%.

Chosen: ENFORCE_CONFIDENCE stays 0.7. Raising it buys one wrong item and spends the whole margin
above 90% kept; the lever that works is lowering the confidence of the rules that are wrong
(setting furniture 0.5, a ridden bus or train as setting 0.5, people riding a bus or in a
restaurant as a crowd 0.4, implied gear indoors 0.6). Setting furniture is limited to dining
table, chair, bench, potted plant (the COCO furniture with the lowest AP) and to furniture
someone is at or on: with every furniture class and every 'on the table' (the first version),
seen-set kept fell to 88.0%.

    .venv/bin/python tests/benchmarks/bench_planner.py --by-confidence \
        --out tests/benchmarks/results/planner_by_confidence.json              # seen sets, final code
    git worktree add /tmp/wt_holdout13 5ba8aef && .venv/bin/python tests/benchmarks/bench_planner.py \
        --set holdout13 --by-confidence --code /tmp/wt_holdout13               # one set, its blind code
    .venv/bin/python tests/benchmarks/bench_planner.py --set holdout6 \
        --out tests/benchmarks/results/planner_holdout6_after.json              # the report set, once
    .venv/bin/python tests/benchmarks/bench_planner.py --set holdout16 \
        --out tests/benchmarks/results/planner_holdout16_blind.json             # a new set: once, blind
    .venv/bin/python tests/benchmarks/bench_planner.py --set holdout5 --failures  # the development set
    .venv/bin/python tests/benchmarks/bench_planner.py                       # every set, summary
    .venv/bin/python tests/benchmarks/bench_planner.py --set dev --failures  # what went wrong
    .venv/bin/python tests/benchmarks/bench_planner.py --out tests/benchmarks/results/planner.json
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
if "--code" in sys.argv[:-1]:  # score the planner of another checkout (a commit's worktree), on these prompts
    sys.path.insert(0, str(Path(sys.argv[sys.argv.index("--code") + 1]).resolve()))

from results_json import emit  # noqa: E402

from clipmill.planning import expand_template, plan_shot  # noqa: E402

PROMPTS = Path(__file__).resolve().parent / "planner_prompts"
SETS = ("dev", "holdout", "holdout2", "holdout3", "holdout4", "holdout5", "holdout6", "holdout7", "holdout8", "holdout9", "holdout10", "holdout11", "holdout12", "holdout13", "holdout14", "holdout15", "holdout16", "holdout17", "holdout18", "holdout19", "holdout20", "holdout21", "holdout22")
FIELDS = ("classes", "counts", "absent", "actions_in_order", "interaction", "vague_warning", "keeps", "other")


def load_cases(name: str) -> list[dict]:
    return yaml.safe_load((PROMPTS / f"{name}.yaml").read_text(encoding="utf-8"))


def case_text(case: dict) -> str:
    return expand_template(case["keyword"], case["template"]) if "template" in case else case["text"]


def _in_order(words: list[str], actions: list[str]) -> bool:
    joined, position = " | ".join(actions).lower(), 0
    for word in words:
        found = joined.find(word.lower(), position)
        if found < 0:
            return False
        position = found + len(word)
    return True


def _truth_counts(case: dict) -> dict[str, int | None]:
    """Class -> the count the text states, None for "N+" (several, the number not stated)."""
    out = {}
    for name, count in case.get("classes", {}).items():
        out[name] = None if isinstance(count, str) else int(count)
    return out


def _fewest_counts(case: dict) -> dict[str, int]:
    """Class -> the fewest a correct clip shows: the count stated, or N of "N+". Also the old
    sets' per-field reading, where a bare plural counts as its least number ("2+" -> 2)."""
    return {name: int(str(count).rstrip("+")) for name, count in case.get("classes", {}).items()}


def expectation_items(case: dict, plan) -> dict:
    """The plan's expectations item by item against the case's truth.

    An enforced item is one QA checks: each class in `Expectations.classes` is two rules (it is
    present; its count is the number given, since QA fails a clip that shows more or fewer),
    each class in `at_least` one (present) or, with a floor above 1, two (present; at least that
    many, right where the case's count or "N+" is at least the floor, never keeping an exact
    count), each in `forbidden` one (absent), and the interaction one. A true item is one the case
    states: presence of each class, its count where a number is stated, each absent class, the
    interaction when it is not null. The interaction is scored only where the case states it;
    `interaction_ok` lists other kinds a correct clip also passes.
    """
    exp = plan.expectations
    truth = _truth_counts(case)
    true_absent = set(case.get("absent", []))
    enforced: list[tuple[str, bool]] = []
    for name, count in exp.classes.items():
        enforced.append((f"presence:{name}", name in truth))
        enforced.append((f"count:{name}={count}", truth.get(name) == count))
    fewest = _fewest_counts(case)
    for name, floor in exp.at_least.items():
        enforced.append((f"presence:{name}", name in truth))
        if floor > 1:
            enforced.append((f"count:{name}>={floor}", fewest.get(name, 0) >= floor))
    for name in exp.forbidden:
        enforced.append((f"absent:{name}", name in true_absent))
    true_items = [f"presence:{n}" for n in truth] + [f"count:{n}={c}" for n, c in truth.items() if c is not None]
    true_items += [f"absent:{n}" for n in true_absent]
    if "interaction" in case:
        accepted = {case["interaction"], *case.get("interaction_ok", [])} - {None}
        if exp.interaction is not None:
            enforced.append((f"interaction:{exp.interaction}", exp.interaction in accepted))
        if case["interaction"] is not None:
            true_items.append(f"interaction:{case['interaction']}")
    kept = {item for item, right in enforced if right}
    if exp.interaction is not None and f"interaction:{exp.interaction}" in kept and "interaction" in case:
        kept.add(f"interaction:{case['interaction']}")  # an accepted kind stands for the asked one
    unchecked = [f"{u.kind}:{u.subject}={u.value}" for u in getattr(exp, "unchecked", ())]
    return {"enforced": len(enforced), "wrong": [item for item, right in enforced if not right],
            "true": len(true_items), "kept": sum(item in kept for item in true_items),
            "missed": [item for item in true_items if item not in kept], "unchecked": unchecked}


def confidence_items(case: dict, plan) -> list[dict]:
    """Every item the planner read, enforced or unchecked, with its confidence and whether the case says it is true.

    A class is one unit (QA enforces its presence and count together): `confidence` is the lower
    of the two, and `items` its presence and count, each right or wrong. Used to choose
    `ENFORCE_CONFIDENCE`: at a threshold t, a unit with confidence >= t would be enforced.
    """
    exp = plan.expectations
    truth = _truth_counts(case)
    true_absent = set(case.get("absent", []))
    accepted = {case.get("interaction"), *case.get("interaction_ok", [])} - {None}
    units: list[dict] = []
    for name, count in exp.classes.items():
        conf = (exp.confidence.get(f"presence:{name}", 0.9), exp.confidence.get(f"count:{name}", 0.9))
        units.append({"rule": f"class:{name}", "confidence": min(conf), "confidences": conf, "enforced": True,
                      "items": [name in truth, truth.get(name) == count]})
    fewest = _fewest_counts(case)
    for name, floor in exp.at_least.items():
        if floor == 1:
            units.append({"rule": f"present:{name}", "confidence": exp.confidence.get(f"presence:{name}", 0.9),
                          "enforced": True, "items": [name in truth]})
        else:
            conf = (exp.confidence.get(f"presence:{name}", 0.9), exp.confidence.get(f"count:{name}", 0.9))
            units.append({"rule": f"at_least:{name}", "confidence": min(conf), "confidences": conf, "enforced": True,
                          "items": [name in truth, fewest.get(name, 0) >= floor]})
    pending: dict[str, dict] = {}
    for u in exp.unchecked:
        if u.kind == "count" and u.subject in exp.at_least:
            continue  # the exact count a floor stands in for: the floor is scored as enforced
        if u.kind in ("presence", "count"):
            unit = pending.setdefault(u.subject, {"rule": f"class:{u.subject}", "enforced": False, "items": [],
                                                  "confidences": [], "why": []})
            unit["confidences"].append(u.confidence)
            unit["why"].append(u.why)
            unit["items"].append(u.subject in truth if u.kind == "presence"
                                 else str(truth.get(u.subject)) == u.value)
        elif u.kind == "absent":
            units.append({"rule": f"absent:{u.subject}", "confidence": u.confidence, "enforced": False,
                          "items": [u.subject in true_absent], "why": [u.why]})
        elif u.kind == "interaction" and "interaction" in case:
            units.append({"rule": f"interaction:{u.value}", "confidence": u.confidence, "enforced": False,
                          "items": [u.value in accepted], "why": [u.why],
                          "kept": int(u.value in accepted and case["interaction"] is not None)})
    for unit in pending.values():
        unit["confidence"] = min(unit["confidences"])
        units.append(unit)
    for name in exp.forbidden:
        units.append({"rule": f"absent:{name}", "confidence": exp.confidence.get(f"absent:{name}", 0.9),
                      "enforced": True, "items": [name in true_absent]})
    if exp.interaction is not None and "interaction" in case:
        units.append({"rule": f"interaction:{exp.interaction}",
                      "confidence": exp.confidence.get(f"interaction:{exp.interaction}", 0.8), "enforced": True,
                      "items": [exp.interaction in accepted],
                      "kept": int(exp.interaction in accepted and case["interaction"] is not None)})
    return units


def by_confidence(names) -> dict:
    """Items per confidence level over `names`, and what each threshold would enforce."""
    levels: dict[float, list[int]] = {}
    units_all, true_total = [], 0
    for name in names:
        for case in load_cases(name):
            plan = plan_shot(case_text(case))
            true_total += expectation_items(case, plan)["true"]
            for unit in confidence_items(case, plan):
                unit["set"], unit["text"] = name, case_text(case)[:100]
                units_all.append(unit)
                level = levels.setdefault(round(unit["confidence"], 2), [0, 0])
                level[0] += len(unit["items"])
                level[1] += sum(unit["items"])
    table = {str(c): {"items": n, "right": r, "precision": round(r / n, 3)} for c, (n, r) in sorted(levels.items())}
    thresholds = {}
    for t in sorted({0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9} | {round(u["confidence"], 2) for u in units_all}):
        on = [u for u in units_all if u["confidence"] >= t - 1e-9]
        enforced = sum(len(u["items"]) for u in on)
        right = sum(sum(u["items"]) for u in on)
        kept = sum(u.get("kept", sum(u["items"])) for u in on)  # an accepted interaction a case does not ask for
        thresholds[str(t)] = {"enforced": enforced, "wrong": enforced - right,     # is right, not a kept true item
                              "wrong_share": round((enforced - right) / enforced, 4) if enforced else 0.0,
                              "kept_share": round(kept / true_total, 4)}
    wrong = [{k: u[k] for k in ("set", "text", "rule", "confidence", "items") if k in u}
             for u in units_all if not all(u["items"]) and u["confidence"] >= 0.7]
    return {"true_items": true_total, "per_confidence": table, "if_threshold": thresholds, "wrong_at_0.7_up": wrong}


def score_case(case: dict, plan=None) -> dict[str, bool]:
    """Field -> right or wrong, for the fields the case states."""
    plan = plan or plan_shot(case_text(case))
    expected_classes = _fewest_counts(case)
    got = plan.expectations.classes
    scores = {
        "classes": set(got) == set(expected_classes),
        "counts": dict(got) == dict(expected_classes),
        "absent": set(getattr(plan, "absent", [])) == set(case.get("absent", [])),
        "vague_warning": any(w.startswith("vague prompt") for w in plan.warnings) == bool(case.get("vague")),
    }
    if case.get("actions"):
        scores["actions_in_order"] = _in_order(case["actions"], plan.actions)
    if "interaction" in case:
        scores["interaction"] = plan.expectations.interaction in {case["interaction"], *case.get("interaction_ok", [])}
    if case.get("keeps"):
        scores["keeps"] = all(k.lower() in plan.prompt.lower() for k in case["keeps"])
    if case.get("other"):
        named = " ".join(getattr(plan, "open_vocabulary", [])).lower()
        scores["other"] = all(o.lower() in named for o in case["other"])
    return scores


def score_set(name: str) -> dict:
    cases = load_cases(name)
    totals = {f: [0, 0] for f in FIELDS}
    items = {"enforced": 0, "wrong": 0, "true": 0, "kept": 0, "unchecked": 0}
    failures, all_right = [], 0
    for case in cases:
        plan = plan_shot(case_text(case))
        scores = score_case(case, plan)
        found = expectation_items(case, plan)
        for key in ("enforced", "true", "kept"):
            items[key] += found[key]
        items["wrong"] += len(found["wrong"])
        items["unchecked"] += len(found["unchecked"])
        for field, right in scores.items():
            totals[field][0] += right
            totals[field][1] += 1
        wrong = [f for f, right in scores.items() if not right]
        all_right += not wrong
        if wrong or found["wrong"] or found["missed"]:
            failures.append({"text": case_text(case)[:160], "wrong": wrong, "wrong_rules": found["wrong"],
                             "missed": found["missed"], "unchecked": found["unchecked"],
                             "classes": plan.expectations.classes, "forbidden": list(plan.expectations.forbidden),
                             "absent": getattr(plan, "absent", []), "actions": plan.actions,
                             "interaction": plan.expectations.interaction, "prompt": plan.prompt[:300],
                             "warnings": [w[:80] for w in plan.warnings]})
    accuracy = {f: round(right / n, 3) for f, (right, n) in totals.items() if n}
    measure = {**items,
               "wrong_share_of_enforced": round(items["wrong"] / items["enforced"], 4) if items["enforced"] else 0.0,
               "kept_share_of_true": round(items["kept"] / items["true"], 4) if items["true"] else 1.0}
    return {"prompts": len(cases), "accuracy": accuracy, "scored": {f: n for f, (_, n) in totals.items() if n},
            "all_fields_right": round(all_right / len(cases), 3), "expectations": measure, "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=(*SETS, "all"), default="all")
    parser.add_argument("--failures", action="store_true", help="print the wrong plans too")
    parser.add_argument("--out", type=Path, help="write the results JSON here")
    parser.add_argument("--code", type=Path, help="a checkout whose clipmill/ and qa/ to score (e.g. a worktree of "
                        "the commit a set was scored blind on)")
    parser.add_argument("--by-confidence", action="store_true",
                        help="items per confidence level and per threshold (to choose ENFORCE_CONFIDENCE)")
    args = parser.parse_args()
    names = SETS if args.set == "all" else (args.set,)
    if args.by_confidence:
        emit({"command": "tests/benchmarks/bench_planner.py " + " ".join(sys.argv[1:]), **by_confidence(names)},
             args.out)
        return
    results = {"command": "tests/benchmarks/bench_planner.py " + " ".join(sys.argv[1:]),
               **{name: score_set(name) for name in names}}
    if len(names) > 1:
        total = {k: sum(results[n]["expectations"][k] for n in names)
                 for k in ("enforced", "wrong", "true", "kept", "unchecked")}
        total["wrong_share_of_enforced"] = round(total["wrong"] / total["enforced"], 4) if total["enforced"] else 0.0
        total["kept_share_of_true"] = round(total["kept"] / total["true"], 4) if total["true"] else 1.0
        results["expectations_all_sets"] = total
    shown = {name: {k: v for k, v in results[name].items() if args.failures or k != "failures"} for name in names}
    if "expectations_all_sets" in results:
        shown["expectations_all_sets"] = results["expectations_all_sets"]
    emit(results, args.out, shown=shown)


if __name__ == "__main__":
    main()
