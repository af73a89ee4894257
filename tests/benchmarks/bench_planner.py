"""How often the rules planner gets a prompt right, field by field, on prompts written for it.

The prompts are in `planner_prompts/`: `dev.yaml` (the planner was tuned on these),
`holdout.yaml` (written at the same time, before any tuning; scored blind once, then its five
failures were seen and fixed by general rules), `holdout2.yaml` (written after that; scored
blind once, 60%, then its failures were fixed by general rules), `holdout3.yaml` (written
after that, scored blind once, `results/planner_holdout3_blind.json`; its two failures were
later seen and fixed by general rules) and `holdout4.yaml` (48 prompts written after holdout3's
results were committed; scored blind once, `results/planner_holdout4_blind.json`, 89.6% all
fields right, then the general causes of its failures were fixed). So every set has now been
seen: a fresh blind score needs prompts written after this. Each prompt states what a correct
plan holds; a field is scored only where the prompt states it.

    .venv/bin/python tests/benchmarks/bench_planner.py --set holdout4 --failures \
        --out tests/benchmarks/results/planner_holdout4_blind.json              # how the blind run was kept

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
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from results_json import emit  # noqa: E402

from clipmill.planning import expand_template, plan_shot  # noqa: E402

PROMPTS = Path(__file__).resolve().parent / "planner_prompts"
SETS = ("dev", "holdout", "holdout2", "holdout3", "holdout4", "holdout5", "holdout6")
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


def _legacy_counts(case: dict) -> dict[str, int]:
    """The old sets' reading: a bare plural counts as its least number ("2+" -> 2)."""
    return {name: int(str(count).rstrip("+")) for name, count in case.get("classes", {}).items()}


def expectation_items(case: dict, plan) -> dict:
    """The plan's expectations item by item against the case's truth.

    An enforced item is one QA checks: each class in `Expectations.classes` is two rules (it is
    present; its count is the number given, since QA fails a clip that shows more or fewer),
    each class in `forbidden` one (absent), and the interaction one. A true item is one the case
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


def score_case(case: dict, plan=None) -> dict[str, bool]:
    """Field -> right or wrong, for the fields the case states."""
    plan = plan or plan_shot(case_text(case))
    expected_classes = _legacy_counts(case)
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
    args = parser.parse_args()
    names = SETS if args.set == "all" else (args.set,)
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
