#!/usr/bin/env bash
# Fuzzes the parsers that read what another process or a user wrote (issue 16):
# LLM completion and embedding bodies, run configs, persona JSONL lines and result
# batches read back from Redis. Builds personaforge-fuzz with libFuzzer and
# AddressSanitizer into .build-fuzz, then runs each target for a bounded time from its
# seed corpus (Tests/fuzz/corpus/TARGET; what libFuzzer finds goes to .fuzz/TARGET).
#
#   deploy/local/fuzz.sh                      every target, 60 s each
#   deploy/local/fuzz.sh --seconds 600 jsonl  one target, 10 minutes
#
# A crash leaves its input in .fuzz/crashes/ and the script exits 1; reproduce it with
#   PERSONAFORGE_FUZZ_TARGET=T .build-fuzz/release/personaforge-fuzz FILE
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"

seconds=60
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        -*) pf_die "unknown option $1 (see --help)" ;;
        *) targets+=("$1"); shift ;;
    esac
done
all=(completion embeddings run-config jsonl result-batch)
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for target in "${targets[@]}"; do
    [[ " ${all[*]} " == *" $target "* ]] || pf_die "unknown fuzz target '$target' (one of: ${all[*]})"
done

cd "$PF_ROOT"
# libFuzzer without its main (SwiftPM renames an executable's main, so the target keeps its
# own and calls LLVMFuzzerRunDriver), from the toolchain's clang runtime.
toolchain="$(dirname "$(readlink -f "$(command -v swift)")")/.."
fuzzer_lib="$(ls "$toolchain"/lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a 2>/dev/null | head -1)"
[ -n "$fuzzer_lib" ] || pf_die "libclang_rt.fuzzer_no_main-x86_64.a not found under $toolchain/lib/clang: this Swift toolchain has no libFuzzer"
pf_say "swift build personaforge-fuzz with AddressSanitizer and libFuzzer coverage (into .build-fuzz)"
swift build -c release --scratch-path .build-fuzz --product personaforge-fuzz \
    -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
    -Xswiftc -DPERSONAFORGE_FUZZ -Xlinker "$fuzzer_lib" -Xlinker -lstdc++ 2>&1 | grep -v "Cannot export local symbol" || true
binary=.build-fuzz/release/personaforge-fuzz
[ -x "$binary" ] || pf_die "the fuzz build failed (see above)"

mkdir -p .fuzz/crashes
status=0
for target in "${targets[@]}"; do
    mkdir -p ".fuzz/$target"
    pf_say "fuzz $target for ${seconds} s"
    log=".fuzz/$target.log"
    if ! PERSONAFORGE_FUZZ_TARGET="$target" "$binary" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
        -artifact_prefix=".fuzz/crashes/$target-" -print_final_stats=1 ".fuzz/$target" "Tests/fuzz/corpus/$target" >"$log" 2>&1; then
        status=1
        pf_say "$target: FAILED, input in .fuzz/crashes/ (log $log):"
        grep -E "ERROR|Fatal error|Precondition|SUMMARY" "$log" | head -5 || true
    fi
    runs=$(grep -Eo "stat::number_of_executed_units: *[0-9]+" "$log" | grep -Eo "[0-9]+$" || echo "?")
    coverage=$(grep -Eo "cov: [0-9]+ ft: [0-9]+" "$log" | tail -1 || echo "?")
    echo "    $target: $runs executions in ${seconds} s, $coverage (edges, features), corpus $(ls ".fuzz/$target" | wc -l) inputs"
done
exit "$status"
