import pytest
import torch

from models.devices import default_dtype, gpu_summary, pick_device


def test_pick_device_prefers_cuda_when_available():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device().type == expected


def test_pick_device_honours_cpu():
    assert pick_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_pick_device_refuses_missing_gpu():
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        pick_device("cuda")


def test_default_dtype():
    assert default_dtype("cpu") == torch.float32
    assert default_dtype(torch.device("cuda")) == torch.bfloat16


def test_gpu_summary_matches_visible_gpus():
    summary = gpu_summary()
    assert len(summary) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)
    for gpu in summary:
        assert set(gpu) == {"index", "name", "total_gib", "free_gib"}
        assert 0 <= gpu["free_gib"] <= gpu["total_gib"]
