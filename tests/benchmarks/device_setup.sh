# Sourced at the start of a device call, from the repository root:
#
#   source tests/benchmarks/device_setup.sh && python3 tests/benchmarks/...
#
# Installs the parts that this call carries (.whl/a1, .whl/c1, ...: built by
# tests/benchmarks/device_bundle.py, which prints the run sequence) into /tmp/site, /tmp/ffbin and
# /tmp/shared, each part once (a part already installed is skipped, so sourcing it again is
# harmless), and puts what earlier calls installed on PYTHONPATH and PATH. What a part installs
# stays in /tmp while the machine is warm (about 30 s after a call), so the parts travel over
# consecutive calls. A call with no parts just sets the paths.
#   a: diffusers, peft (LoRAs), torchao (FP8): generation     b: flash-attn-4 stack (optional)
#   c: the Prefect batch flow, ultralytics, open_clip, ffmpeg/ffprobe (needs a and d)
#   d: OpenCV 4.14, rapidocr, the COCO SSD graph, the CJK font and ../shared/data/video (bench_judgement)
# pip --target ignores .pth files: the folders they name go on PYTHONPATH (cutlass DSL's, for one).
export PYTHONUNBUFFERED=1
python3 tests/benchmarks/device_bundle.py install || return 1
# clipmill itself, from this call's tree: its folders (flows/, qa/, ...) import as clipmill.flows,
# clipmill.qa, ... only once installed (setup.py maps them), so a plain PYTHONPATH=$PWD is not enough.
rm -rf /tmp/clipmill_pkg
python3 -m pip install -q --no-deps --no-build-isolation --no-index --target /tmp/clipmill_pkg . >/dev/null || return 1
rm -rf build clipmill.egg-info
export PYTHONPATH=/tmp/clipmill_pkg:$(cat /tmp/device_bundle/pythonpath) PATH=/tmp/ffbin:/tmp/site/bin:$PATH
# Versions from the installed metadata (importing torch here would cost every call seconds).
python3 - <<'PY'
from importlib import metadata
def v(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"
print("device python", __import__("platform").python_version(), "|", ", ".join(
    f"{n} {v(n)}" for n in ("torch", "transformers", "diffusers", "prefect", "ultralytics", "open_clip_torch",
                            "opencv-python-headless", "rapidocr-onnxruntime", "flash-attn-4", "torchao", "peft")))
PY
