#!/usr/bin/env bash
# The benchmark suite (docs/benchmarks.md): every benchmark with the reference it is
# measured against in the same invocation, so each figure is a ratio taken side by
# side on this machine. It starts the local stack (Redis, PostgreSQL, SmolLM2), builds
# release binaries, installs datasketch and rensa into .venv-bench, and recreates the
# scratch database personaforge_bench before each database benchmark.
#
#   deploy/local/bench.sh            the full suite (about 25 minutes on 2 cores)
#   deploy/local/bench.sh --smoke    each benchmark for about a second (is it still working?)
#   deploy/local/bench.sh NAME...    only these: dedup llm-client llm-tokens worker-stages
#                                    diversity copy plan-scale band-index postgres-index end-to-end
#
# Run it on a quiet machine: the figures are CPU time and wall time.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"

smoke=0
selected=()
for argument in "$@"; do
    case "$argument" in
        --smoke) smoke=1 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        -*) pf_die "unknown option $argument (see --help)" ;;
        *) selected+=("$argument") ;;
    esac
done
all=(dedup llm-client llm-tokens worker-stages diversity copy plan-scale band-index postgres-index end-to-end)
[ ${#selected[@]} -gt 0 ] || selected=("${all[@]}")
for name in "${selected[@]}"; do
    [[ " ${all[*]} " == *" $name "* ]] || pf_die "unknown benchmark '$name' (one of: ${all[*]})"
done

"$here/stack.sh" up
cd "$PF_ROOT"
if [ "$smoke" = 1 ] && [ -x .build/debug/personaforge-bench ] && [ "${PF_BENCH_RELEASE:-0}" != 1 ]; then
    # The smoke mode only checks that each benchmark runs: the debug build of the tests will do.
    pf_say "swift build (debug, for the smoke run)"
    swift build --product personaforge-bench >/dev/null && swift build --product personaforge >/dev/null && swift build --product personaforge-stub >/dev/null
    bin=.build/debug
else
    pf_say "swift build -c release"
    swift build -c release
    bin=.build/release
fi
bench="$bin/personaforge-bench"

scratch_url="postgresql://$PF_POSTGRES_USER:$PF_POSTGRES_PASSWORD@127.0.0.1:$PF_POSTGRES_PORT/personaforge_bench"
fresh_database() {
    PGPASSWORD="$PF_POSTGRES_PASSWORD" psql -q -h 127.0.0.1 -p "$PF_POSTGRES_PORT" -U "$PF_POSTGRES_USER" -d "$PF_POSTGRES_DB" \
        -c "DROP DATABASE IF EXISTS personaforge_bench" -c "CREATE DATABASE personaforge_bench" >/dev/null
}

# size FULL SMOKE: the figure for this mode.
size() { if [ "$smoke" = 1 ]; then echo "$2"; else echo "$1"; fi; }

run() {
    local name="$1"
    shift
    pf_say "$name: $*"
    "$@"
}

for name in "${selected[@]}"; do
    case "$name" in
        dedup)
            # MinHash and LSH against datasketch and rensa (Python), one core.
            if [ ! -x .venv-bench/bin/python ]; then
                python3 -m venv .venv-bench
                .venv-bench/bin/pip install --quiet datasketch rensa
            fi
            run dedup .venv-bench/bin/python Tests/reference/dedup_speed.py --bench "$bench" \
                --docs "$(size 5000 200)" --words 200 ;;
        llm-client)
            # HTTPClient and LLMClient against curl --parallel, on the instant stub.
            run llm-client "$bench" --llm-client "$(size 20000 500)" --concurrency 64 --rounds "$(size 3 1)" ;;
        llm-tokens)
            # Tokens/s from the local llama.cpp server: the worker's path against curl --parallel.
            run llm-tokens "$bench" --llm-tokens "$(size 48 4)" --max-tokens "$(size 64 8)" --rounds "$(size 3 1)" \
                --llm-url "$PERSONAFORGE_LLM_BASE_URL" --model "$PERSONAFORGE_LLM_MODEL" ;;
        worker-stages)
            # The worker's CPU per record by stage, against the instant stub.
            run worker-stages "$bench" --worker-stages "$(size 20000 500)" --rounds "$(size 3 1)" ;;
        diversity)
            # The reducer's live diversity per record, by component, against MinHash of the same texts.
            run diversity "$bench" --diversity "$(size 20000 500)" --rounds "$(size 3 1)" ;;
        copy)
            # The reducer's COPY against psql \copy of the same rows.
            fresh_database
            run copy "$bench" --copy "$(size 100000 2000)" --rounds "$(size 3 1)" --database-url "$scratch_url" ;;
        plan-scale)
            # plan, submit and the coordinator for 10^6, 10^9 and 10^12 conditions.
            fresh_database
            run plan-scale "$bench" --plan-scale 6,9,12 --database-url "$scratch_url" ;;
        band-index)
            # The band index in Redis: one server and a 3-master cluster on loopback.
            run band-index "$bench" --band-index "$(size 1000000 5000)" --probe "$(size 20000 1000)" ;;
        postgres-index)
            # The band index in PostgreSQL: capacity and decisions per second.
            fresh_database
            run postgres-index "$bench" --postgres-records "$(size 100000 2000)" --probe "$(size 10000 500)" \
                --batch "$(size 1000 500)" --database-url "$scratch_url" ;;
        end-to-end)
            # A distributed run against the instant stub, dedup on against dedup off.
            fresh_database
            run end-to-end "$bench" --end-to-end "$(size 20000 1000)" --rounds "$(size 2 1)" --database-url "$scratch_url" ;;
    esac
done
pf_say "benchmarks done${smoke:+ }$( [ "$smoke" = 1 ] && echo '(smoke mode: the figures mean nothing)')"
