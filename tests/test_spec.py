"""Batch spec validation: defaults merge, and errors that name the file, the job and the field."""
from pathlib import Path

import pytest
import yaml

from clipmill.spec import MODEL_NAMES, SpecError, load_spec, parse_spec

SPECS = sorted((Path(__file__).resolve().parents[1] / "deployments" / "specs").glob("*.yaml"))


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "batch.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def base(**job) -> dict:
    return {"name": "b1", "defaults": {"frames": 17, "qa": {"max_flicker": 5.0}},
            "jobs": [{"id": "j1", "prompt": "a dog runs", **job}]}


def test_defaults_apply_and_qa_merges_key_by_key(tmp_path):
    spec = load_spec(write(tmp_path, base(qa={"min_motion": 1.5})))
    job = spec.jobs[0]
    assert job.frames == 17 and job.qa.max_flicker == 5.0 and job.qa.min_motion == 1.5
    assert spec.source_sha256 and spec.source_path == (tmp_path / "batch.yaml").resolve()


def test_relative_image_resolves_against_the_spec_folder(tmp_path):
    spec = load_spec(write(tmp_path, base(image="photos/cup.jpg")))
    assert spec.jobs[0].image == tmp_path / "photos" / "cup.jpg"


def test_artifact_store_is_a_url_or_a_folder_relative_to_the_spec(tmp_path):
    assert load_spec(write(tmp_path, base())).artifacts is None
    assert load_spec(write(tmp_path, {**base(), "artifacts": "s3://bucket/clipmill"})).artifacts == "s3://bucket/clipmill"
    assert load_spec(write(tmp_path, {**base(), "artifacts": "published"})).artifacts == str(tmp_path / "published")
    with pytest.raises(SpecError, match=r"batch\.yaml: field 'artifacts': .*artifact URL nosuchfs://x: Protocol not known"):
        load_spec(write(tmp_path, {**base(), "artifacts": "nosuchfs://x"}))


@pytest.mark.parametrize("job, words", [
    ({"width": 250}, ["job 'j1'", "'width'", "multiple of 16"]),
    ({"frames": 18}, ["job 'j1'", "frames=18", "4k+1"]),
    ({"frames": 17, "segments": 3}, ["3 segment(s)", "e.g. 13"]),
    ({"model": "sora"}, ["'model'", "unknown model 'sora'"]),
    ({"colour": "red"}, ["'colour'", "Extra inputs"]),
    ({"qa": {"max_flicker": "lots"}}, ["'qa.max_flicker'"]),
    ({"keyword": "cats"}, ["exactly one of 'prompt' or 'keyword'"]),
    ({"prompt": "   "}, ["exactly one of 'prompt' or 'keyword'"]),
])
def test_errors_name_file_job_and_field(tmp_path, job, words):
    with pytest.raises(SpecError) as caught:
        load_spec(write(tmp_path, base(**job)))
    message = str(caught.value)
    assert str(tmp_path / "batch.yaml") in message
    for word in words:
        assert word in message


def test_error_from_defaults_says_so(tmp_path):
    data = base()
    data["defaults"]["width"] = 100
    with pytest.raises(SpecError, match="may come from 'defaults'"):
        load_spec(write(tmp_path, data))


def test_unnamed_job_is_named_by_position_and_duplicates_rejected(tmp_path):
    with pytest.raises(SpecError, match=r"job #2: field 'id'"):
        parse_spec({"name": "b", "jobs": [{"id": "a", "prompt": "x"}, {"prompt": "y"}]})
    with pytest.raises(SpecError, match="appears more than once"):
        parse_spec({"name": "b", "jobs": [{"id": "a", "prompt": "x"}, {"id": "a", "prompt": "y"}]})


@pytest.mark.parametrize("text, words", [
    ("[1, 2", ["not valid YAML"]),
    ("- just a list", ["a batch spec is a mapping"]),
    ("name: b\njobs: []", ["'jobs' must be a non-empty list"]),
    ("name: b\nsurprise: 1\njobs: [{id: a, prompt: x}]", ["unknown top-level field(s): surprise"]),
])
def test_malformed_files(tmp_path, text, words):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert all(w in str(caught.value) for w in words)


def test_missing_file_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError, match="cannot read"):
        load_spec(tmp_path / "absent.yaml")


def test_segment_arithmetic():
    spec = parse_spec({"name": "b", "jobs": [{"id": "a", "prompt": "x", "frames": 33, "segments": 2}]})
    job = spec.jobs[0]
    assert job.segment_frames() == 17  # 17 + 17 - 1 shared boundary frame = 33
    assert job.segment_frames(4) == 9
    assert job.valid_segment_counts() == [1, 2, 4, 8]


def test_model_names_match_the_model_registry():
    from clipmill.models.wan import MODEL_SPECS

    assert set(MODEL_NAMES) == set(MODEL_SPECS)


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_shipped_specs_are_valid(path):
    assert load_spec(path).jobs


@pytest.mark.parametrize("field, good, bad", [
    ("memory_profile", "group_offload", "tiny-card"),  # a known profile or unset
    ("qa_device", "cuda:1", "gpu"),  # cpu or a cuda device, or unset (the GPU when there is one)
])
def test_model_placement_fields_take_known_values_or_none(field, good, bad):
    assert getattr(parse_spec({"name": "b", "jobs": [{"id": "a", "prompt": "x"}]}).models, field) is None
    spec = parse_spec({"name": "b", "models": {field: good}, "jobs": [{"id": "a", "prompt": "x"}]})
    assert getattr(spec.models, field) == good
    with pytest.raises(SpecError, match=f"models.{field}"):
        parse_spec({"name": "b", "models": {field: bad}, "jobs": [{"id": "a", "prompt": "x"}]})


def job(**fields):
    return parse_spec({"name": "b", "jobs": [{"id": "a", "prompt": "a dog runs", **fields}]}).jobs[0]


def test_initial_params_take_model_defaults_and_the_fast_profile():
    assert job(model="wan2.2-ti2v-5b", width=1280, height=704).initial_params().steps == 50
    assert job(model="wan2.2-ti2v-5b", speed="fast").initial_params().steps == 16
    assert job(model="wan2.2-t2v-a14b", guidance=2.5).initial_params().guidance == 2.5
    assert job(steps=7, speed="fast").initial_params().steps == 7


@pytest.mark.parametrize("fields, words", [
    ({"model": "wan2.2-ti2v-5b", "width": 1280, "height": 720}, "multiples of 32"),
    ({"model": "wan2.2-i2v-a14b"}, "image-to-video only"),
    ({"model": "wan2.2-t2v-a14b", "frames": 33, "segments": 2}, "cannot continue segments"),
])
def test_jobs_a_model_cannot_make_are_refused_before_gpu_time(fields, words):
    with pytest.raises(ValueError, match=words):
        job(**fields).check_fits_model()


def test_a_job_version_changes_with_what_the_job_makes_and_only_with_that(tmp_path):
    base = job()
    assert job().version() == base.version()
    assert job(max_attempts=7).version() == base.version()  # a new budget, same clip
    for changed in ({"prompt": "a cat runs"}, {"seed": 1}, {"frames": 21}, {"model": "wan2.2-ti2v-5b"},
                    {"width": 320}, {"qa": {"max_flicker": 3.0}}, {"negative_prompt": "blur"}):
        fields = {"id": "a", "prompt": "a dog runs", **changed}
        assert parse_spec({"name": "b", "jobs": [fields]}).jobs[0].version() != base.version(), changed
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"first photo")
    first = parse_spec({"name": "b", "jobs": [{"id": "a", "prompt": "x", "image": str(photo)}]}).jobs[0].version()
    photo.write_bytes(b"a different photo under the same name")
    again = parse_spec({"name": "b", "jobs": [{"id": "a", "prompt": "x", "image": str(photo)}]}).jobs[0].version()
    assert first != again


def test_long_prompts_are_named_with_where_each_encoder_stops():
    from clipmill.prompt_limits import ENCODERS, cut_point, length_warnings

    short = "A boy throws a yellow frisbee to a brown dog in a sunny park"
    assert length_warnings(short) == []
    medium = " ".join(["word"] * 100)  # past CLIP's 77, well within Wan's 512
    [clip_only] = length_warnings(medium)
    assert "CLIP" in clip_only and "at character" in clip_only
    huge = "海边" * 400 + " then a very long tail"
    warnings = length_warnings(huge)
    assert len(warnings) == 2 and cut_point(huge, ENCODERS[0]) <= 520


def test_a_run_keeps_the_good_jobs_and_records_what_is_wrong_with_the_others(tmp_path):
    data = base()
    data["jobs"] += [{"id": "typo", "keyword": "cats", "template": "no-such-template"},
                     {"id": "odd", "prompt": "a cat", "frames": 18},
                     {"id": "bad id!", "prompt": "a cat"},
                     "just a string",
                     {"id": "j2", "prompt": "a cat jumps"}]
    path = write(tmp_path, data)
    with pytest.raises(SpecError, match=r"job 'typo': field 'template': unknown template"):
        load_spec(path)  # validate and submit refuse the whole spec, so a person sees it at once
    spec = load_spec(path, jobs_may_fail=True)
    assert [job.id for job in spec.jobs] == ["j1", "j2"]
    invalid = {job.key: job for job in spec.invalid_jobs}
    assert {key: job.field for key, job in invalid.items()} == {"typo": "template", "odd": "frames", "#4": "id",
                                                                "#5": "(job)"}
    assert invalid["typo"].reason.startswith(f"{path}: job 'typo': field 'template': unknown template "
                                             "'no-such-template'; known templates:")
    assert invalid["typo"].prompt == "cats" and invalid["typo"].params["template"] == "no-such-template"
    fixed = {**data, "jobs": [*data["jobs"][:1], {"id": "typo", "keyword": "cats", "template": "nope-2"}]}
    assert load_spec(write(tmp_path, fixed), jobs_may_fail=True).invalid_jobs[0].version != invalid["typo"].version


def test_a_fault_in_defaults_stops_even_a_run(tmp_path):
    data = base()
    data["defaults"]["width"] = 100  # every job inherits it: the spec's fault, not one job's
    with pytest.raises(SpecError, match=r"field 'width'.*comes from 'defaults'"):
        load_spec(write(tmp_path, data), jobs_may_fail=True)
    data["jobs"][0]["width"] = 96  # a job that sets its own value is not touched by it
    assert load_spec(write(tmp_path, data), jobs_may_fail=True).jobs[0].width == 96
    with pytest.raises(SpecError, match="unknown top-level field"):
        load_spec(write(tmp_path, {**base(), "jbos": []}), jobs_may_fail=True)
