#!/usr/bin/env bash
# Broker throughput and latency (BENCHMARKS.md, "Broker throughput and latency (issue 4)").
#
# Starts a release `brook server` on a fresh data directory (default under /tmp, the same file
# system as the dd reference) and runs `brook perf produce|consume` against it, with the
# references measured in the same run: dd with fdatasync, loopback TCP bandwidth, start-up time,
# broker RSS idle and under load, and CPU seconds of broker and client for every run.
#
# Usage: scripts/bench/broker-bench.sh STEP...   (steps: refs startup produce latency cold)
# Environment: BROOK (binary, default .build-rel/release/brook), BENCH_DIR (parent of the data
# directories, default /tmp), PARTITIONS (default 1), N100 / N1K (records per produce run),
# REPEAT (rounds of produce runs, default 3; the latency runs use the median peak),
# PREWARM_MB (see below, default 4096; 0 skips it).
#
# Page cache "warm" and "cold": on the project's VM (Firecracker, nested virtualisation, free
# page reporting) memory the guest has handed back to the host is slow to touch again: writing
# a file into such memory runs at ~270 MB/s, whoever writes it (dd included), against ~2 GB/s
# into memory the guest recently used. So that runs measure the broker rather than the
# hypervisor, every run is preceded by a "pre-warm" (dd of PREWARM_MB MB to a scratch file,
# deleted at once: its pages are reused by the run); the pre-warm's own dd rate is printed, it
# is the cold reference. The `cold` step measures one produce run without it.
set -euo pipefail
BROOK=${BROOK:-.build-rel/release/brook}
BENCH_DIR=${BENCH_DIR:-/tmp}
PARTITIONS=${PARTITIONS:-1}
N100=${N100:-10000000}
N1K=${N1K:-2000000}
REPEAT=${REPEAT:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
PEAKS=${PEAKS:-/tmp/brook-bench-peaks}

say() { echo "### $*"; }
load() { echo "load: $(uptime | sed 's/.*load average: //')"; }

# CPU seconds (user + system) of a process so far.
cpu_seconds() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }
rss_mb() { ps -o rss= -p "$1" | awk '{ printf "%.0f", $1 / 1024 }'; }

BROKER_PID=""
BOOTSTRAP=""
DATA=""
prewarm() {
    [ "${PREWARM_MB:-4096}" -gt 0 ] || return 0
    echo "pre-warm (cold page cache reference): $(dd if=/dev/zero of="$BENCH_DIR/brook-bench-prewarm" bs=1M \
        count="${PREWARM_MB:-4096}" 2>&1 | tail -1)"
    rm -f "$BENCH_DIR/brook-bench-prewarm"
}
start_broker() {
    prewarm
    DATA=$(mktemp -d -p "$BENCH_DIR" brook-bench.XXXXXX)
    local log="$DATA.log"
    "$BROOK" server --override listeners=PLAINTEXT://127.0.0.1:0 --override "log.dirs=$DATA" \
        --override "num.partitions=$PARTITIONS" >"$log" 2>&1 &
    BROKER_PID=$!
    for _ in $(seq 200); do
        if grep -qs "listening on" "$log"; then break; fi
        sleep 0.05
    done
    BOOTSTRAP=$(grep -o 'PLAINTEXT://[0-9.]*:[0-9]*' "$log" | head -1 | sed 's|PLAINTEXT://||')
}
stop_broker() {
    kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true
    rm -rf "$DATA" "$DATA.log"
}

# produce LABEL ARGS...: one `brook perf produce` run with CPU and RSS of both sides.
produce() {
    local label=$1; shift
    local before; before=$(cpu_seconds "$BROKER_PID")
    local peak_rss=0
    /usr/bin/time -f "client: %U s user, %S s sys, %e s wall, %M KB max RSS" \
        "$BROOK" perf produce --bootstrap-server "$BOOTSTRAP" "$@" 2>&1 &
    local client=$!
    while kill -0 "$client" 2>/dev/null; do
        local rss; rss=$(rss_mb "$BROKER_PID"); (( rss > peak_rss )) && peak_rss=$rss
        sleep 1
    done
    wait "$client"
    echo "broker: $(awk "BEGIN { printf \"%.2f\", $(cpu_seconds "$BROKER_PID") - $before }") CPU s, peak RSS ${peak_rss} MB, RSS now $(rss_mb "$BROKER_PID") MB"
    echo "[$label] $(load)"
}

consume() {
    local label=$1; shift
    local before; before=$(cpu_seconds "$BROKER_PID")
    /usr/bin/time -f "client: %U s user, %S s sys, %e s wall, %M KB max RSS" \
        "$BROOK" perf consume --bootstrap-server "$BOOTSTRAP" "$@" 2>&1
    echo "broker: $(awk "BEGIN { printf \"%.2f\", $(cpu_seconds "$BROKER_PID") - $before }") CPU s, RSS $(rss_mb "$BROKER_PID") MB"
    echo "[$label] $(load)"
}

# The median of the peaks measured by the produce step for LABEL.
peak_rate() { grep "^$1 " "$PEAKS" | awk '{ print $2 }' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for step in "$@"; do
case $step in
refs)
    say "references"; load
    prewarm
    echo "dd to the page cache (warm): $(dd if=/dev/zero of="$BENCH_DIR/brook-bench-dd" bs=1M count=2048 2>&1 | tail -1)"
    rm -f "$BENCH_DIR/brook-bench-dd"
    prewarm
    echo "dd with fdatasync: $(dd if=/dev/zero of="$BENCH_DIR/brook-bench-dd" bs=1M count=2048 conv=fdatasync 2>&1 | tail -1)"
    rm -f "$BENCH_DIR/brook-bench-dd"
    python3 "$HERE/loopback.py" 4
    load
    ;;
startup)
    say "start-up: exec to the 'listening' log line (fresh data directory each time)"
    for run in 1 2 3 4 5; do
        dir=$(mktemp -d -p "$BENCH_DIR" brook-start.XXXXXX)
        python3 - "$BROOK" "$dir" <<'PY'
import subprocess, sys, time
start = time.perf_counter()
p = subprocess.Popen([sys.argv[1], "server", "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                      "--override", f"log.dirs={sys.argv[2]}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
for line in p.stdout:
    if "listening on" in line:
        print(f"start-up: {(time.perf_counter() - start) * 1000:.1f} ms")
        break
time.sleep(1)
rss = int(open(f"/proc/{p.pid}/status").read().split("VmRSS:")[1].split()[0])
print(f"idle RSS after 1 s: {rss / 1024:.1f} MB")
p.terminate(); p.wait()
PY
        rm -rf "$dir"
    done
    ;;
produce)
    say "produce, $PARTITIONS partition(s), $REPEAT rounds"; : >"$PEAKS"
    for round in $(seq "$REPEAT"); do
        for acks in 1 all; do
            start_broker; sleep 1; echo "broker idle RSS: $(rss_mb "$BROKER_PID") MB"
            produce "round $round 100B acks=$acks" --topic p100 --num-records "$N100" --record-size 100 --acks "$acks" >"$PEAKS.run"
            cat "$PEAKS.run"
            echo "100B-$acks $(grep 'records sent,.*99.9th' "$PEAKS.run" | awk '{ print $4 }')" >>"$PEAKS"
            consume "round $round consume 100B" --topic p100 --messages "$N100"
            stop_broker
            start_broker; sleep 1
            produce "round $round 1KB acks=$acks" --topic p1k --num-records "$N1K" --record-size 1024 --acks "$acks" >"$PEAKS.run"
            cat "$PEAKS.run"
            echo "1KB-$acks $(grep 'records sent,.*99.9th' "$PEAKS.run" | awk '{ print $4 }')" >>"$PEAKS"
            consume "round $round consume 1KB" --topic p1k --messages "$N1K"
            stop_broker
        done
    done
    ;;
latency)
    say "latency at half the median peak rate, linger.ms 5 (the default) and 0, 10 s each"
    for linger in 5 0; do
    for acks in 1 all; do
        for size in 100B 1KB; do
            peak=$(peak_rate "$size-$acks")
            rate=$(awk "BEGIN { printf \"%d\", $peak / 2 }")
            bytes=$([ "$size" = 100B ] && echo 100 || echo 1024)
            # 10 s, but no more than 2.5 GB: the pre-warmed memory must hold the run.
            records=$(awk "BEGIN { r = $rate * 10; m = 2500000000 / $bytes; printf \"%d\", r < m ? r : m }")
            start_broker; sleep 1
            produce "latency $size acks=$acks linger.ms=$linger at $rate/s" --topic lat --num-records "$records" \
                --record-size "$bytes" --acks "$acks" --throughput "$rate" --linger-ms "$linger"
            stop_broker
        done
    done
    done
    ;;
cold)
    say "cold page cache: 1 KB records, acks=1, into memory handed back to the host"
    echo "dd into cold memory, file kept: $(dd if=/dev/zero of="$BENCH_DIR/brook-bench-keep" bs=1M count=4096 2>&1 | tail -1)"
    PREWARM_MB=0 start_broker; sleep 1
    produce "cold 1KB acks=1" --topic cold --num-records "$N1K" --record-size 1024 --acks 1
    stop_broker
    rm -f "$BENCH_DIR/brook-bench-keep"
    ;;
*) echo "unknown step $step" >&2; exit 2 ;;
esac
done
