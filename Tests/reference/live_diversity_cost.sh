#!/usr/bin/env bash
# What live diversity costs the reducer: runs the same run twice against the instant
# fixture LLM (echoing the prompt, so texts carry Persona Hub personas), once with
# `reducer --no-live-diversity` and once with live diversity, and reports the run's
# wall time, the stored state size and the time of each state persist.
#
#   Tests/reference/live_diversity_cost.sh [SAMPLES (5000)] [PERSIST_SECONDS (5)]
#
# Needs the local stack (deploy/local/stack.sh up; source deploy/local/env.sh) and a
# debug build. Uses ../shared/data/personas-5k.jsonl when present, else the sample.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/deploy/local/env.sh"
samples=${1:-5000}
persist=${2:-5}
bin="$root/.build/debug/personaforge"
work=$(mktemp -d)
personas="$root/../shared/data/personas-5k.jsonl"
[ -f "$personas" ] || personas="$root/config/data/personas-sample.jsonl"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 "$root/Tests/fixtures/http_fixture.py" "$port" > "$work/fixture.log" 2>&1 &
pids=($!)
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && echo "logs in $work"
sleep 1
cp "$personas" "$work/personas.jsonl"
cat > "$work/run.yaml" <<YAML
name: live-diversity-cost
seed: $RANDOM
limit: $samples
shard_size: 50
axes:
  - name: persona
    source:
      file: personas.jsonl
      field: persona
steps:
  - name: text
    user: "Write about the life of this person: {{persona}}"
dedup:
  enabled: false
YAML
export PERSONAFORGE_LLM_BASE_URL="http://127.0.0.1:$port/fault/ok/v1"
# Three services on one host: none serves a metrics port (they would all want 9464).
export PERSONAFORGE_METRICS_PORT=0
psql_query() { PGPASSWORD=$PF_POSTGRES_PASSWORD psql -h 127.0.0.1 -p "$PF_POSTGRES_PORT" -U "$PF_POSTGRES_USER" -d "$PF_POSTGRES_DB" -qAt -c "$1"; }

for mode in no-live live; do
    export PERSONAFORGE_NAMESPACE="cost$RANDOM"
    run=$("$bin" submit "$work/run.yaml" --new | tail -1)
    flags=(--no-live-diversity)
    [ "$mode" = live ] && flags=(--diversity-persist-seconds "$persist")
    PERSONAFORGE_LOG_LEVEL=debug "$bin" reducer "${flags[@]}" > "$work/reducer-$mode.log" 2>&1 &
    reducer=$!
    "$bin" coordinator > "$work/coordinator-$mode.log" 2>&1 &
    coordinator=$!
    "$bin" worker --concurrency 16 > "$work/worker-$mode.log" 2>&1 &
    worker=$!
    pids+=("$reducer" "$coordinator" "$worker")
    until [ "$(psql_query "SELECT state FROM runs WHERE id = '$run'")" = completed ]; do sleep 0.5; done
    sleep 3  # the reducer's idle flush
    kill "$reducer" "$coordinator" "$worker"; wait "$reducer" "$coordinator" "$worker" 2>/dev/null || true
    echo "== $mode: run $run"
    psql_query "SELECT 'samples ' || records_generated || ', kept ' || records_kept || ', wall ' || round(extract(epoch FROM finished_at - started_at)::numeric, 1) || ' s' FROM runs WHERE id = '$run'"
    if [ "$mode" = live ]; then
        psql_query "SELECT 'state rows ' || count(*) || ', records ' || sum(records) || ', state bytes ' || max(state_bytes) FROM diversity_states WHERE run_id = '$run'"
        psql_query "SELECT 'live snapshots ' || count(*) || ', last records_seen ' || max(records_seen) FROM metric_snapshots WHERE run_id = '$run' AND NOT is_final"
        sed -n 's/.*bytes=\([0-9]*\) ms=\([0-9]*\) records=\([0-9]*\).*persisted live diversity state.*/\3 \1 \2/p' "$work/reducer-$mode.log" \
            | awk '{ n++; t += $3; if ($3 > m) m = $3; last = $0 } END { if (n) printf "%d persists in transactions: mean %.1f ms, max %d ms; last (records, bytes, ms): %s\n", n, t / n, m, last }'
    fi
done
