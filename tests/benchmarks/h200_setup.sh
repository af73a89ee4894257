# Sourced at the start of a device call (tests/benchmarks/*.py on the H200): puts the carried
# wheels on PYTHONPATH. The device machine has torch but not diffusers or flash-attn-4, and a
# call carries at most 64 MiB, so the wheels travel in two parts, over consecutive calls while
# the machine stays warm:
#   .whl/a: diffusers, ftfy, wcwidth, importlib_metadata, and CuTe DSL's 193 MB compiler library
#           (_cutlass_ir.cu13...so) as ir.so.xz (50 MB), kept in /tmp/keep for the next call;
#   .whl/b: flash-attn-4, nvidia-cutlass-dsl(-libs-base/-core), the rest of -libs-cu13 as a tar,
#           quack-kernels, apache-tvm-ffi, torch-c-dlpack-ext.
# pip --target ignores .pth files: nvidia_cutlass_dsl_packages.pth's folder is added by hand.
export PYTHONUNBUFFERED=1
SITE=/tmp/site
install_wheels() { python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target $SITE "$@"; }
if [ -d .whl/a ]; then
  mkdir -p /tmp/keep && cp .whl/a/ir.so.xz /tmp/keep/ && install_wheels .whl/a/*.whl || return 1
fi
if [ -d .whl/b ] && [ -f /tmp/keep/ir.so.xz ]; then
  install_wheels .whl/b/*.whl || return 1
  tar xzf .whl/b/cu13_rest.tgz -C $SITE || return 1
  python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open('/tmp/keep/ir.so.xz'), open(sys.argv[1], 'wb'))" \
    $SITE/nvidia_cutlass_dsl/dsl_packages/cutlass/_mlir/_mlir_libs/_cutlass_ir.cu13.cpython-312-x86_64-linux-gnu.so || return 1
fi
export PYTHONPATH=$SITE:$SITE/nvidia_cutlass_dsl/dsl_packages:$PWD
python3 -c "import diffusers, torch; print('diffusers', diffusers.__version__, 'torch', torch.__version__, torch.cuda.get_device_name(0))"
python3 -c "from models.attention import fa4_import_error as e; print('flash-attn-4:', e() or 'imports')"
