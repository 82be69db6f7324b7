#!/usr/bin/env bash
# The README's main command: sets up everything on a fresh Debian/Ubuntu machine
# and runs a real PersonaForge run against the local stack.
#
#   1. install dependencies; start Redis, PostgreSQL and the SmolLM2 server on 127.0.0.1
#   2. build personaforge; apply the schema; check every connection (doctor)
#   3. submit config/demo-questions.yaml (200 persona × topic samples)
#   4. start a coordinator, a reducer and TWO worker processes
#   5. watch live status until the run completes, then stop the services (SIGTERM)
#   6. print the report (summary, coverage, a few generated records) and write it as
#      HTML; export the kept records to JSONL with a dataset card
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
command -v swift >/dev/null 2>&1 || pf_die "no Swift toolchain on PATH: install Swift 6 from swift.org (see README)"

config="${1:-config/demo-questions.yaml}"
"$here/stack.sh" up
cd "$PF_ROOT"
pf_say "swift build"
swift build
personaforge="$(swift build --show-bin-path)/personaforge"
export PERSONAFORGE_NAMESPACE="${PERSONAFORGE_NAMESPACE:-demo}"
logs="$PF_STATE_DIR/logs"

pf_say "personaforge migrate && personaforge doctor"
"$personaforge" migrate
"$personaforge" doctor

pf_say "personaforge submit $config --new"
run_id="$("$personaforge" submit "$config" --new)"

pids=()
stop_services() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_services EXIT
pf_say "starting coordinator, reducer and two workers (logs in $logs/demo-*.log)"
# One metrics port each (they share this machine): /metrics, /health, /ready on 127.0.0.1.
metrics="${PF_METRICS_PORT_BASE:-$((PF_LLM_PORT + 1300))}"
export PERSONAFORGE_METRICS_HOST=127.0.0.1
"$personaforge" coordinator --metrics-port "$metrics" > "$logs/demo-coordinator.log" 2>&1 & pids+=($!)
"$personaforge" reducer --metrics-port "$((metrics + 1))" > "$logs/demo-reducer.log" 2>&1 & pids+=($!)
"$personaforge" worker --concurrency 4 --metrics-port "$((metrics + 2))" > "$logs/demo-worker-1.log" 2>&1 & pids+=($!)
"$personaforge" worker --concurrency 4 --metrics-port "$((metrics + 3))" > "$logs/demo-worker-2.log" 2>&1 & pids+=($!)
pf_say "metrics: curl http://127.0.0.1:$metrics/metrics (coordinator), :$((metrics + 1)) reducer, :$((metrics + 2)) and :$((metrics + 3)) workers"

pf_say "personaforge status $run_id --watch   (Ctrl-C stops the demo; the run can be resumed)"
"$personaforge" status "$run_id" --watch --interval 3
stop_services
trap - EXIT

pf_say "personaforge evaluate $run_id --save   (diversity of the kept records)"
"$personaforge" evaluate "$run_id" --save
out="$PF_STATE_DIR/demo-$run_id"
mkdir -p "$out"
pf_say "personaforge report $run_id --html $out/report.html   (summary, coverage, a few records)"
"$personaforge" report "$run_id" --html "$out/report.html"
pf_say "personaforge export $run_id --output $out/kept.jsonl   (with a dataset card, README.md)"
"$personaforge" export "$run_id" --output "$out/kept.jsonl"
pf_say "done: in $out: kept.jsonl (kept records with provenance), README.md (dataset card), report.html (open it in a browser)"
pf_say "the stack keeps running: deploy/local/stack.sh status | down"
