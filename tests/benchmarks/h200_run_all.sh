# The H200 measurements of one session, in one process chain that outlives a device call
# (a device command may run 10 minutes; this takes about 25). Run from the repository root after
# `source tests/benchmarks/device_setup.sh` has installed parts a, c and d (b too for FA4;
# tests/benchmarks/device_bundle.py builds them and prints the run sequence):
#
#   setsid nohup bash tests/benchmarks/h200_run_all.sh /tmp/res > /tmp/res.log 2>&1 < /dev/null &
#
# It works on a copy of the tree (the next call replaces the checkout) and writes each result
# JSON into $1 as soon as it exists, so later calls can pick up what is done.
set -u
RES=${1:-/tmp/res}
mkdir -p "$RES"
rm -rf /tmp/repo /tmp/repo_pkg && cp -r . /tmp/repo && cd /tmp/repo || exit 1
# clipmill from the copy: its folders import as clipmill.flows, clipmill.qa, ... only once
# installed (setup.py maps them); the copy's own root on PYTHONPATH would shadow them.
python3 -m pip install -q --no-deps --no-build-isolation --no-index --target /tmp/repo_pkg . >/dev/null || exit 1
export PYTHONPATH=/tmp/repo_pkg:$(cat /tmp/device_bundle/pythonpath) PATH=/tmp/ffbin:/tmp/site/bin:$PATH
export PYTHONUNBUFFERED=1

if [ -z "${SKIP_WAN:-}" ]; then echo "== $(date +%T) bench_wan_gpu"
python3 tests/benchmarks/bench_wan_gpu.py --model ti2v-5b --paths plain,clipmill,fast,segments --segment-steps 20 \
  --json "$RES/wan_ti2v5b_h200.json" > "$RES/wan.log" 2>&1; fi
echo "== $(date +%T) save the random checkpoint"
[ -f /tmp/wan5b/model_index.json ] || python3 tests/benchmarks/bench_prefect_batch_gpu.py --save-random /tmp/wan5b > "$RES/save.log" 2>&1
echo "== $(date +%T) Prefect batch"
python3 tests/benchmarks/bench_prefect_batch_gpu.py --source /tmp/wan5b --in-flight 2,1 --clips 6,2 \
  --json "$RES/prefect_batch_h200.json" > "$RES/prefect.log" 2>&1
echo "== $(date +%T) done"
touch "$RES/done"
