"""LoRAs and the distilled profile in the batch spec: where they are written, what is refused
at once, what a job's first attempt takes, job versions, and the order a batch runs its jobs."""
import hashlib
import json
from pathlib import Path

import pytest
import yaml

from clipmill.spec import SpecError, in_lora_order, load_spec, parse_spec


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "batch.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def job(**fields):
    return parse_spec({"name": "b", "jobs": [{"id": "a", "prompt": "a dog runs", **fields}]}).jobs[0]


def test_loras_come_from_defaults_or_the_job_relative_to_the_spec(tmp_path):
    spec = load_spec(write(tmp_path, {
        "name": "b", "defaults": {"model": "wan2.2-t2v-a14b", "loras": [{"path": "loras/brand.safetensors", "scale": 0.8}]},
        "jobs": [{"id": "a", "prompt": "a dog runs"},
                 {"id": "b", "prompt": "a cat runs", "loras": [{"path": "/abs/high.safetensors"}],
                  "loras_2": [{"path": "low.safetensors", "scale": 0.5}]},
                 {"id": "c", "prompt": "a cow runs", "loras": []}]}))
    a, b, c = spec.jobs
    assert [(lora.path, lora.scale) for lora in a.loras] == [(tmp_path / "loras" / "brand.safetensors", 0.8)]
    assert [(lora.path, lora.scale) for lora in b.loras] == [(Path("/abs/high.safetensors"), 1.0)]  # a job's list replaces
    assert [(lora.path, lora.scale) for lora in b.loras_2] == [(tmp_path / "low.safetensors", 0.5)]
    assert c.loras == [] and c.loras_2 == []


@pytest.mark.parametrize("fields, words", [
    ({"loras": [{"path": "style.pt"}]}, "field 'loras.0.path': Value error, LoRA style.pt: only .safetensors files "
                                        "are loaded; a .pt file may be a pickle"),
    ({"loras": [{"path": "style.ckpt"}]}, "a .ckpt file may be a pickle"),
    ({"loras": [{"path": "style.safetensors", "scale": 50}]}, "field 'loras.0.scale'"),
    ({"loras": [{"path": "style.safetensors", "sha256": "abc"}]}, "field 'loras.0.sha256'"),
    ({"loras": [{"file": "style.safetensors"}]}, "field 'loras.0.path'"),
    ({"loras_2": [{"path": "low.safetensors"}]}, "field 'loras_2': tiny has one transformer"),
    ({"model": "wan2.2-ti2v-5b", "width": 1280, "height": 704, "loras_2": [{"path": "low.safetensors"}]},
     "wan2.2-ti2v-5b has one transformer"),
    ({"speed": "lightning"}, "field 'speed'"),
])
def test_a_wrong_lora_or_speed_is_one_line_naming_the_job_and_field(tmp_path, fields, words):
    with pytest.raises(SpecError) as raised:
        load_spec(write(tmp_path, {"name": "b", "jobs": [{"id": "j1", "prompt": "a dog runs", **fields}]}))
    message = str(raised.value)
    assert "\n" not in message and "job 'j1'" in message and words in message.replace(str(tmp_path) + "/", "")


def test_distilled_takes_the_profile_steps_and_guidance_unless_the_job_sets_them():
    params = job(model="wan2.2-t2v-a14b", speed="distilled").initial_params()
    assert (params.steps, params.guidance) == (4, 1.0)
    params = job(model="wan2.2-ti2v-5b", width=1280, height=704, speed="distilled").initial_params()
    assert (params.steps, params.guidance) == (4, 1.0)
    assert job(speed="distilled", steps=6).initial_params().steps == 6
    assert job(speed="distilled").initial_params().steps == 2  # tiny's test profile


def _old_version(spec_job) -> str:
    """JobSpec.version() as it was computed before jobs had LoRAs."""
    fields = spec_job.model_dump(mode="json", exclude={"id", "max_attempts", "loras", "loras_2"})
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def test_jobs_without_loras_keep_the_version_they_had(tmp_path):
    plain = job(seed=4)
    assert plain.version() == _old_version(plain)  # not a new version: ended jobs are not made again

    lora = tmp_path / "style.safetensors"
    lora.write_bytes(b"first bytes")
    first = job(loras=[{"path": str(lora)}]).version()
    assert first != plain.version()
    assert job(loras=[{"path": str(lora), "scale": 0.5}]).version() != first
    lora.write_bytes(b"other bytes under the same name")
    assert job(loras=[{"path": str(lora)}]).version() != first  # a LoRA counts by its bytes
    second = job(loras=[{"path": str(lora)}]).version()
    moved = tmp_path / "elsewhere.safetensors"
    lora.rename(moved)
    assert job(loras=[{"path": str(moved)}]).version() == second  # the same bytes moved: the same job


def test_lora_weights_are_named_by_content_and_a_pin_is_held(tmp_path):
    lora = tmp_path / "style.safetensors"
    lora.write_bytes(b"some bytes")
    sha = hashlib.sha256(b"some bytes").hexdigest()
    low = tmp_path / "low.safetensors"
    low.write_bytes(b"low")
    weights = job(model="wan2.2-t2v-a14b", loras=[{"path": str(lora), "scale": 0.5}],
                  loras_2=[{"path": str(low)}]).lora_weights()
    assert [(w.sha256, w.scale, w.expert) for w in weights] == [
        (sha, 0.5, "transformer"), (hashlib.sha256(b"low").hexdigest(), 1.0, "transformer_2")]
    assert job(loras=[{"path": str(lora), "sha256": "sha256:" + sha.upper()}]).lora_weights()[0].sha256 == sha
    with pytest.raises(ValueError, match="not the pinned"):
        job(loras=[{"path": str(lora), "sha256": "0" * 64}]).lora_weights()
    with pytest.raises(ValueError, match="file not found"):
        job(loras=[{"path": str(tmp_path / "gone.safetensors")}]).lora_weights()


def test_a_batch_runs_jobs_sharing_a_lora_set_together_in_spec_order_otherwise():
    a, b = {"path": "/l/a.safetensors"}, {"path": "/l/b.safetensors"}
    jobs = parse_spec({"name": "b", "jobs": [
        {"id": "1", "prompt": "p", "loras": [a]}, {"id": "2", "prompt": "p"}, {"id": "3", "prompt": "p", "loras": [b]},
        {"id": "4", "prompt": "p", "loras": [a]}, {"id": "5", "prompt": "p"}, {"id": "6", "prompt": "p", "loras": [b]},
        {"id": "7", "prompt": "p", "loras": [{**a, "scale": 0.5}]}, {"id": "8", "prompt": "p", "loras": [a]}]}).jobs
    assert [j.id for j in in_lora_order(jobs)] == ["1", "4", "8", "2", "5", "3", "6", "7"]
    plain = [j for j in jobs if not j.loras]
    assert in_lora_order(plain) == plain  # no LoRAs anywhere: spec order, untouched


def test_the_shipped_distilled_example_is_valid(tmp_path):
    spec = load_spec(Path(__file__).resolve().parents[1] / "deployments" / "specs" / "distilled-lightning.yaml")
    assert {job.speed for job in spec.jobs} == {"distilled"}
    assert all(job.loras and job.loras_2 for job in spec.jobs if job.model == "wan2.2-t2v-a14b")


def test_validate_warns_of_a_distilled_job_without_a_lora(tmp_path):
    from typer.testing import CliRunner

    from clipmill.cli import app

    path = write(tmp_path, {"name": "b", "defaults": {"speed": "distilled"}, "jobs": [
        {"id": "bare", "prompt": "a dog runs"},
        {"id": "zero", "prompt": "a dog runs", "loras": [{"path": "d.safetensors", "scale": 0}]},
        {"id": "with", "prompt": "a dog runs", "loras": [{"path": "d.safetensors"}]}]})
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0 and "3 job(s), valid" in result.output
    warned = [line for line in result.output.splitlines() if "without any LoRA" in line]
    assert [line.split("'")[1] for line in warned] == ["bare", "zero"]
