"""A LoRA that is missing, not safetensors, or made for another model is named in one line by
preflight and `clipmill doctor --spec`, before any GPU time (no model weights are read)."""
import pickle

import pytest
import torch
import yaml
from safetensors.torch import save_file
from typer.testing import CliRunner

from clipmill.cli import app
from clipmill.models.tiny_wan import build_tiny_pipeline, save_tiny_pipeline
from clipmill.preflight import PreflightError, lora_problems, preflight
from clipmill.spec import load_spec
from clipmill.storage.config import RunConfig
from tests.models.lora_files import random_lora, save_lora

pytestmark = pytest.mark.slow  # builds tiny models


@pytest.fixture(scope="module")
def loras(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loras")
    transformer = build_tiny_pipeline().transformer
    deeper = {}
    for block in range(4):  # the tiny model has 2 blocks
        deeper[f"diffusion_model.blocks.{block}.self_attn.q.lora_down.weight"] = torch.zeros(4, 32)
        deeper[f"diffusion_model.blocks.{block}.self_attn.q.lora_up.weight"] = torch.zeros(32, 4)
    save_file(deeper, str(folder / "other-model.safetensors"))
    (folder / "pickled.safetensors").write_bytes(pickle.dumps({"not": "tensors"}))
    return {"fits": save_lora(random_lora(transformer), folder / "fits.safetensors", "kijai"),
            "other": folder / "other-model.safetensors", "pickled": folder / "pickled.safetensors",
            "missing": folder / "missing.safetensors"}


def spec_file(tmp_path, jobs, **top):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({"name": "loras", "models": {"clip_pretrained": "random", "detector": "random"},
                                    "defaults": {"model": "tiny", "width": 64, "height": 64, "frames": 5},
                                    "jobs": jobs, **top}))
    return path


def test_each_unusable_lora_is_one_line_naming_its_job_and_file(tmp_path, loras):
    spec = load_spec(spec_file(tmp_path, [
        {"id": "good", "prompt": "a dog runs", "loras": [{"path": str(loras["fits"])}]},
        {"id": "gone", "prompt": "a dog runs", "loras": [{"path": str(loras["missing"])}]},
        {"id": "pickle", "prompt": "a dog runs", "loras": [{"path": str(loras["pickled"])}]},
        {"id": "other", "prompt": "a dog runs", "loras": [{"path": str(loras["other"])}]},
        {"id": "other-again", "prompt": "a cat runs", "loras": [{"path": str(loras["other"])}]}]))
    problems = lora_problems(spec)
    assert len(problems) == 3 and all("\n" not in line for line in problems)  # one line per file and model
    gone, pickled, other = problems
    assert gone.startswith("job gone: LoRA ") and "missing.safetensors: file not found" in gone
    assert pickled.startswith("job pickle: LoRA ") and "not a safetensors file" in pickled
    assert other.startswith("job other: LoRA ") and "does not fit tiny's transformer: 2 of its 4 layers are not in the model" in other

    with pytest.raises(PreflightError) as raised:
        preflight(RunConfig.resolve(tmp_path / "runs", f"sqlite:///{tmp_path / 'db.sqlite'}"), spec)
    assert "\n" not in str(raised.value) and all(line in str(raised.value) for line in problems)


def test_a_two_expert_checkpoint_is_checked_from_its_config(tmp_path, loras):
    folder = save_tiny_pipeline(tmp_path / "tiny-a14b", form="t2v-a14b")
    (folder / "transformer_2" / "diffusion_pytorch_model.safetensors").unlink()  # the config is all it reads
    spec = load_spec(spec_file(tmp_path, [
        {"id": "both", "prompt": "a dog runs", "model": "wan2.2-t2v-a14b", "loras": [{"path": str(loras["fits"])}],
         "loras_2": [{"path": str(loras["fits"]), "scale": 0.5}]},
        {"id": "low-wrong", "prompt": "a dog runs", "model": "wan2.2-t2v-a14b", "loras_2": [{"path": str(loras["other"])}]}],
        models={"clip_pretrained": "random", "detector": "random", "generator_source": {"wan2.2-t2v-a14b": str(folder)}}))
    [problem] = lora_problems(spec)
    assert problem.startswith("job low-wrong:") and "wan2.2-t2v-a14b's low-noise expert" in problem


def test_a_model_not_downloaded_yet_leaves_the_keys_to_load_time(tmp_path, loras, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spec = load_spec(spec_file(tmp_path, [
        {"id": "a", "prompt": "a dog runs", "model": "wan2.2-t2v-a14b", "loras": [{"path": str(loras["other"])}]}],
        models={"clip_pretrained": "random", "detector": "random",
                "generator_source": {"wan2.2-t2v-a14b": "Wan-AI/Wan2.2-T2V-A14B-Diffusers"}}))
    assert lora_problems(spec) == []  # the file itself is fine; its fit is checked when the model loads


def test_doctor_checks_a_spec_s_loras(tmp_path, loras):
    runner = CliRunner()
    bad = spec_file(tmp_path, [{"id": "other", "prompt": "a dog runs", "loras": [{"path": str(loras["other"])}]}])
    result = runner.invoke(app, ["doctor", "--db-url", f"sqlite:///{tmp_path / 'db.sqlite'}", "--spec", str(bad)])
    [line] = [line for line in result.output.splitlines() if " lora " in line]
    assert line.startswith("[fail]") and "job other: LoRA" in line and "are not in the model" in line
    assert result.exit_code == 1

    good = tmp_path / "good" / "spec.yaml"
    good.parent.mkdir()
    spec_file(good.parent, [{"id": "good", "prompt": "a dog runs", "loras": [{"path": str(loras["fits"])}]}])
    result = runner.invoke(app, ["doctor", "--db-url", f"sqlite:///{tmp_path / 'db.sqlite'}", "--spec", str(good)])
    assert "[  ok] loras" in result.output and "1 LoRA file(s) of loras fit their jobs' models" in result.output


def test_loras_with_fp8_blocks_are_checked_like_any_other(tmp_path, loras):
    """FP8 blocks take LoRAs (fused into their bf16 weights, models.precision.Fp8Blocks): a spec
    with precision fp8 is not refused for having LoRAs, and one that does not fit is still named."""
    fp8 = {"clip_pretrained": "random", "detector": "random", "precision": "fp8"}
    fits = load_spec(spec_file(tmp_path, [{"id": "a", "prompt": "a dog runs", "loras": [{"path": str(loras["fits"])}]}],
                               models=fp8))
    assert lora_problems(fits) == []
    other = load_spec(spec_file(tmp_path, [{"id": "b", "prompt": "a dog runs",
                                            "loras": [{"path": str(loras["other"])}]}], models=fp8))
    [problem] = lora_problems(other)
    assert problem.startswith("job b: LoRA") and "are not in the model" in problem
