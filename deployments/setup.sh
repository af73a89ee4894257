#!/usr/bin/env bash
# Make a Prefect server ready for clipmill's deployments; safe to run again at any time.
#
#   deployments/setup.sh            # GPUs of this host from nvidia-smi
#   deployments/setup.sh 0 1        # or named: indices of the GPUs this host's workers use
#   CLIPMILL_GPUS="0 1" deployments/setup.sh
#
# 1. the work pools of deployments/prefect.yaml: clipmill-gpu (a worker per GPU) and
#    clipmill-control (the fan-out, which only waits on its shards);
# 2. a global concurrency limit of 1 per GPU of this host, gpu-<hostname>-<index>: every
#    generation holds its GPU's slot, so a served process and a worker on one GPU never
#    generate at the same time (run this on every GPU host);
# 3. the GPU pool's priority queues for `clipmill submit --priority`: urgent before normal
#    before bulk (a worker takes the most urgent run waiting; "default" holds scheduled runs);
# 4. the server variable clipmill_public_url: where `clipmill serve` answers ($CLIPMILL_PUBLIC_URL,
#    default http://127.0.0.1:8700), so every worker's dashboard cards link to files a browser opens;
# 5. `prefect deploy --all` of deployments/prefect.yaml; the trending poller stays paused while
#    its sources are prefect.yaml's placeholders (*.example.com), which would fail every poll.
#
# Existing pools and limits are left as they are (a limit changed by hand stays changed);
# deployments are updated to what prefect.yaml says. Talks to $PREFECT_API_URL (or the
# active Prefect profile's server); $PREFECT names the prefect command to use.
set -euo pipefail
cd "$(dirname "$0")/.."

# $PREFECT may be a command with arguments ("uv run prefect"); relative to the repository root.
if [ -n "${PREFECT:-}" ]; then read -r -a prefect <<<"$PREFECT"
elif [ -x .venv/bin/prefect ]; then prefect=(.venv/bin/prefect)
else prefect=(prefect)
fi
export PREFECT_SERVER_ANALYTICS_ENABLED=${PREFECT_SERVER_ANALYTICS_ENABLED:-false}

# Create something unless it exists. Prefect's create commands refuse an existing name with
# "... already exists" and exit 1; any other failure (no server, say) stops the script.
ensure() {
  local what=$1 out; shift
  if out=$("${prefect[@]}" "$@" 2>&1); then
    echo "setup: created $what"
  elif grep -q "already exists" <<<"$out"; then
    echo "setup: $what exists"
  else
    echo "$out" >&2
    echo "setup: could not create $what" >&2
    return 1
  fi
}

gpu_indices() {
  if [ $# -gt 0 ]; then echo "$*"
  elif [ -n "${CLIPMILL_GPUS:-}" ]; then echo "${CLIPMILL_GPUS//,/ }"
  elif command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=index --format=csv,noheader
  fi
}

# The name the generation code asks for: socket.gethostname() is uname's node name.
host=$(uname -n)
gpus=$(gpu_indices "$@")
[ -n "$gpus" ] || echo "setup: no GPU on this host (no nvidia-smi, no CLIPMILL_GPUS): no GPU limits"

# Pools and limits are independent of each other: create them side by side (each prefect
# command spends seconds starting up), then deploy, which needs the pools.
pids=()
ensure "work pool clipmill-gpu" work-pool create clipmill-gpu --type process & pids+=($!)
ensure "work pool clipmill-control" work-pool create clipmill-control --type process & pids+=($!)
for index in $gpus; do
  ensure "concurrency limit gpu-$host-$index" global-concurrency-limit create "gpu-$host-$index" --limit 1 &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[ "$failed" = 0 ] || exit 1

# Priorities are positions in the pool (1 first); created in order, after the pool exists.
priority=1
for queue in urgent normal bulk; do
  ensure "work queue $queue" work-queue create "$queue" --pool clipmill-gpu --priority "$priority"
  priority=$((priority + 1))
done

public_url=${CLIPMILL_PUBLIC_URL:-http://127.0.0.1:8700}
"${prefect[@]}" variable set clipmill_public_url "$public_url" --overwrite >/dev/null
echo "setup: dashboard links to files at $public_url (start \`clipmill serve\` there, or set CLIPMILL_PUBLIC_URL)"

"${prefect[@]}" --no-prompt deploy --all --prefect-file deployments/prefect.yaml

# prefect.yaml deploys the poller paused; resume it only once its sources are real.
if grep -q '\.example\.com' deployments/prefect.yaml; then
  echo "setup: trending-poller is paused: its sources are placeholders; edit them in deployments/prefect.yaml and run setup again"
else
  if [ -x .venv/bin/python ]; then python=.venv/bin/python; else python=python3; fi
  "$python" - <<'PY'
from prefect.client.orchestration import get_client
with get_client(sync_client=True) as client:
    client.resume_deployment(client.read_deployment_by_name("clipmill-trending/trending-poller").id)
PY
  echo "setup: trending-poller resumed"
fi
