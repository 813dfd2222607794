#!/usr/bin/env bash
# Runs brook-fuzz (built by `make fuzz-build`) on each target in turn and prints a summary.
#
#   scripts/fuzz/run.sh <brook-fuzz binary> <work dir> <target>...
#
# FUZZ_SECONDS (default 60) or FUZZ_RUNS (executions; wins when set) bound each target; FUZZ_JOBS
# runs that many processes per target (libFuzzer -fork, default 1: no fork); FUZZ_ARGS adds
# libFuzzer options. Each target fuzzes <work dir>/corpus/<target>, seeded from the committed
# corpus, so new inputs never land in the source tree. A crash leaves its input in
# <work dir>/crashes/<target>/; the script then fails. To replay one with a normal build:
#   swift run brook-fuzz <target> <input file>
set -uo pipefail

binary=$1 work=$2
shift 2
seeds=Tests/BrookFuzzTargetsTests/Corpus
regressions=Tests/BrookFuzzTargetsTests/Regressions
seconds=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:-}
status=0
summary=()

for target in "$@"; do
    corpus=$work/corpus/$target crashes=$work/crashes/$target log=$work/logs/$target.log
    mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
    limit=(-max_total_time="$seconds")
    [[ -n $runs ]] && limit=(-runs="$runs")
    inputs=("$corpus" "$seeds/$target")
    [[ -d $regressions/$target ]] && inputs+=("$regressions/$target")
    fork=()
    [[ ${FUZZ_JOBS:-1} -gt 1 ]] && fork=(-fork="$FUZZ_JOBS" -ignore_crashes=1)
    start=$(date +%s)
    # -timeout: a handler that waits longer than 20 s is a hang; -rss_limit_mb: a leak or an
    # allocation amplification; -max_len: broker sessions are a few KiB.
    # shellcheck disable=SC2086
    # SWIFT_BACKTRACE=enable=no: Swift's backtracer would take the trap's signal before
    # libFuzzer's handler, which then never writes the crashing input.
    SWIFT_BACKTRACE=enable=no BROOK_FUZZ_TARGET=$target "$binary" "${limit[@]}" "${fork[@]}" -timeout=20 -rss_limit_mb=4096 \
        -max_len=16384 -print_final_stats=1 -artifact_prefix="$crashes/" ${FUZZ_ARGS:-} "${inputs[@]}" >"$log" 2>&1
    code=$?
    elapsed=$(( $(date +%s) - start ))
    executions=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | awk '{s+=$1} END {print s+0}')
    [[ $executions == 0 ]] && executions=$(grep -Eo 'Done [0-9]+ runs' "$log" | grep -Eo '[0-9]+' | tail -1)
    # A run that crashed prints no final stats: take the last status line's count.
    [[ -z $executions || $executions == 0 ]] && executions=$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    coverage=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+')
    found=$(find "$crashes" -type f -newermt "@$start" \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \) | wc -l)
    summary+=("$(printf '%-20s %12s execs %6ss  cov %-6s  crashes %s' "$target" "${executions:-?}" "$elapsed" "${coverage:-?}" "$found")")
    if [[ $code -ne 0 || $found -ne 0 ]]; then
        status=1
        echo "brook-fuzz $target failed (exit $code); log: $log" >&2
        grep -E 'ERROR|Fatal error|brook-fuzz .*:|SUMMARY|artifact' "$log" | head -20 >&2
    fi
done

printf '%s\n' "${summary[@]}"
exit $status
