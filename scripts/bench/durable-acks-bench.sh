#!/usr/bin/env bash
# Durable acks against page-cache acks, same run (BENCHMARKS.md, "Durable acknowledgements (issue 13)").
#
# For 100 B and 1 KiB records, alternates ROUNDS times between the two modes, each on a fresh
# broker (scripts/bench/start-broker.sh, data under $DATA_PARENT/durable-acks-bench, DATA_PARENT
# default /tmp, the real disk):
#   durable     Brook's default: acks=all answered once the records are fsynced (group commit)
#   pagecache   `--override log.write.caching=true`: acks=all answered from the page cache (Kafka)
# The producer is librdkafka's rdkafka_performance (RDKPERF; built outside the repository, see
# BENCHMARKS.md) against a topic of PARTITIONS (4) partitions, with librdkafka's defaults: the
# tool's own producer settings (linger.ms 1000, 3 retries, 500 ms backoff) are set back to the
# library's (linger.ms 5, retries unlimited, backoff 100 ms), acks=all explicit. `-l -A FILE`
# has every record carry its send time and the delivery report write its latency (µs) to FILE
# (on /dev/shm, off the measured disk), from which p50/p99 are computed. Those are latencies of
# a producer running flat out, i.e. mostly queueing in the client.
#
# Each run is preceded by a pre-warm (dd of PREWARM_MB MB to a scratch file under DATA_PARENT,
# deleted at once; see broker-bench.sh on this VM's cold memory). References in the same run:
# dd with fdatasync (512 MiB, 1 MiB blocks) and dd with a dsync per 16 KiB write (fsync cost of
# one small append). STRACE=1 adds, after the timed rounds, one durable run per size with the
# broker under `strace -f --seccomp-bpf -c -e trace=fsync,fdatasync` (only those calls stop the
# broker) to count fsyncs. RATE100 / RATE1K (records/s) add, after the rounds, one run per mode
# and size throttled to that rate (`-r`, 10 s of records): latency below saturation, where the
# fsync's own delay shows instead of the client's queue.
#
# Usage (from the repository root, after swift build -c release --product brook --scratch-path .build-rel):
#   RDKPERF=/path/to/rdkafka_performance scripts/bench/durable-acks-bench.sh
# Environment: BROOK, RDKPERF, DATA_PARENT, ROUNDS (3), PARTITIONS (4), N100 (6000000),
# N1K (1500000), PREWARM_MB (3072; 0 skips), STRACE (0), SIZES ("100 1024"), RATE100, RATE1K.
set -euo pipefail
BROOK=${BROOK:-.build-rel/release/brook}
RDKPERF=${RDKPERF:?set RDKPERF to rdkafka_performance}
# Scratch and data directories in a folder of this script's own under /tmp (or DATA_PARENT).
export TMPDIR=${TMPDIR:-/tmp/durable-acks-bench}
export DATA_PARENT=${DATA_PARENT:-/tmp}/durable-acks-bench
mkdir -p "$TMPDIR" "$DATA_PARENT"
ROUNDS=${ROUNDS:-3}
PARTITIONS=${PARTITIONS:-4}
N100=${N100:-6000000}
N1K=${N1K:-1500000}
PREWARM_MB=${PREWARM_MB:-3072}
STRACE=${STRACE:-0}
SIZES=${SIZES:-100 1024}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/start-broker.sh"
results=$(mktemp "$TMPDIR/results.XXXXXX")
lat=$(mktemp /dev/shm/durable-acks-lat.XXXXXX)

load() { cut -d' ' -f1-3 /proc/loadavg; }
cpu_seconds() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }
prewarm() {
  [ "$PREWARM_MB" -gt 0 ] || return 0
  echo "pre-warm: $(dd if=/dev/zero of="$DATA_PARENT/durable-acks-prewarm" bs=1M count="$PREWARM_MB" 2>&1 | tail -1)"
  rm -f "$DATA_PARENT/durable-acks-prewarm"
}
stop_broker() {
  kill "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true
  rm -rf "$work" "$data"
}
percentiles() {
  python3 - "$1" <<'PY'
import sys, numpy as np
v = np.fromfile(sys.argv[1], dtype=np.int64, sep="\n")
print(f"{np.percentile(v, 50) / 1000:.1f} {np.percentile(v, 99) / 1000:.1f} {len(v)}" if len(v) else "nan nan 0")
PY
}

# run MODE SIZE LABEL [BROOK-WRAPPER]: one fresh broker, one rdkafka_performance run.
run() {
  local mode=$1 size=$2 label=$3
  local count=${COUNT:-$(( size == 100 ? N100 : N1K ))}
  local args=(--override "num.partitions=$PARTITIONS")
  [ "$mode" = pagecache ] && args+=(--override log.write.caching=true)
  prewarm
  start_broker durable-acks "${args[@]}"
  "$BROOK" topics create --bootstrap-server "$bootstrap" --topic t --partitions "$PARTITIONS" >/dev/null
  local broker_pid=$broker
  # Under the strace wrapper, $broker is strace; the broker is its child.
  [ -n "${BROKER_CHILD:-}" ] && broker_pid=$(pgrep -P "$broker" | head -1)
  local cpu0; cpu0=$(cpu_seconds "$broker_pid")
  local load0; load0=$(load)
  local out
  out=$(/usr/bin/time -f "client: %U s user, %S s sys, %e s wall" "$RDKPERF" -P -t t -s "$size" -c "$count" -b "$bootstrap" \
    -X acks=all -X linger.ms=5 -X message.send.max.retries=2147483647 -X retry.backoff.ms=100 \
    -l -A "$lat" -i 100000 ${RATE:+-r "$RATE"} 2>&1)
  local cpu1; cpu1=$(cpu_seconds "$broker_pid")
  echo "$out" | grep -E '^% [0-9]+ messages produced|client:|backpressure|fail|rror' | grep -v '0 failed' || true
  echo "$out" | grep -E 'messages produced .* delivered' | tail -1
  local summary; summary=$(echo "$out" | grep -E 'messages produced .* delivered' | tail -1)
  local msgs mbs; msgs=$(echo "$summary" | sed -n 's/.*ms: \([0-9]*\) msgs\/s and \([0-9.]*\) MB\/s.*/\1/p')
  mbs=$(echo "$summary" | sed -n 's/.*msgs\/s and \([0-9.]*\) MB\/s.*/\1/p')
  local pct; pct=$(percentiles "$lat")
  local bcpu; bcpu=$(awk "BEGIN { printf \"%.2f\", $cpu1 - $cpu0 }")
  if [ -n "${BROKER_CHILD:-}" ]; then kill "$broker_pid"; wait "$broker" 2>/dev/null || true; fi
  stop_broker
  echo "RESULT $label mode=$mode size=$size records=$count msgs/s=$msgs MB/s=$mbs p50_ms=${pct%% *} p99_ms=$(echo "$pct" | cut -d' ' -f2) latencies=${pct##* } broker_cpu_s=$bcpu load=\"$load0\"" | tee -a "$results"
}

echo "### durable acks bench: $(git -C "$here" rev-parse --short HEAD 2>/dev/null), data under $DATA_PARENT ($(df -T "$DATA_PARENT" | awk 'NR==2 { print $2 }')), load $(load)"
"$RDKPERF" -h 2>&1 | grep 'librdkafka version' || true
echo "### references"
prewarm
echo "dd 512 MiB conv=fdatasync: $(dd if=/dev/zero of="$DATA_PARENT/durable-acks-dd" bs=1M count=512 conv=fdatasync 2>&1 | tail -1)"
rm -f "$DATA_PARENT/durable-acks-dd"
echo "dd 500 x 16 KiB oflag=dsync: $(dd if=/dev/zero of="$DATA_PARENT/durable-acks-dd" bs=16k count=500 oflag=dsync 2>&1 | tail -1)"
rm -f "$DATA_PARENT/durable-acks-dd"
echo "load $(load)"

for size in $SIZES; do
  for round in $(seq "$ROUNDS"); do
    # Alternate which mode goes first, so that neither always runs after the other.
    if (( round % 2 )); then modes="durable pagecache"; else modes="pagecache durable"; fi
    for mode in $modes; do
      echo "### size $size round $round $mode"
      run "$mode" "$size" "round=$round"
    done
  done
done

if [ "$STRACE" = 1 ]; then
  wrapper=$(mktemp "$TMPDIR/strace-wrapper.XXXXXX")
  real=$(cd "$(dirname "$BROOK")" && pwd)/$(basename "$BROOK")
  for size in $SIZES; do
    trace=$(mktemp "$TMPDIR/strace-out.XXXXXX")
    printf '#!/bin/sh\nif [ "$1" = server ]; then exec strace -f --seccomp-bpf -c -e trace=fsync,fdatasync -o %s %s "$@"; fi\nexec %s "$@"\n' \
      "$trace" "$real" "$real" >"$wrapper"
    chmod +x "$wrapper"
    echo "### strace (fsync count), size $size, durable"
    BROOK="$wrapper" BROKER_CHILD=1 run durable "$size" "strace"
    sleep 0.5; cat "$trace"; rm -f "$trace"
  done
  rm -f "$wrapper"
fi

for size in $SIZES; do
  rate=$([ "$size" = 100 ] && echo "${RATE100:-}" || echo "${RATE1K:-}")
  [ -n "$rate" ] || continue
  for mode in durable pagecache; do
    echo "### fixed rate $rate records/s, size $size, $mode"
    RATE=$rate COUNT=$(( rate * 10 )) run "$mode" "$size" "rate=$rate"
  done
done

echo "### medians ($ROUNDS rounds)"
python3 - "$results" <<'PY'
import sys, re, statistics as st
rows = [dict(re.findall(r'(\S+?)=("[^"]*"|\S+)', l)) for l in open(sys.argv[1]) if l.startswith("RESULT round=")]
for size in sorted({r["size"] for r in rows}, key=int):
    med = {}
    for mode in ("durable", "pagecache"):
        rs = [r for r in rows if r["size"] == size and r["mode"] == mode]
        if not rs: continue
        m = lambda k: st.median(float(r[k]) for r in rs)
        med[mode] = m("msgs/s")
        print(f"size {size} {mode}: msgs/s {m('msgs/s'):,.0f} (rounds {', '.join(r['msgs/s'] for r in rs)}), MB/s {m('MB/s'):.1f}, "
              f"p50 {m('p50_ms'):.1f} ms, p99 {m('p99_ms'):.1f} ms (rounds {', '.join(r['p99_ms'] for r in rs)}), broker CPU {m('broker_cpu_s'):.2f} s")
    if len(med) == 2:
        print(f"size {size} durable/pagecache (medians): {med['durable'] / med['pagecache']:.2f}")
PY
for size in $SIZES; do
  python3 - "$results" "$size" <<'PY'
import sys, re
rows = [dict(re.findall(r'(\S+?)=("[^"]*"|\S+)', l)) for l in open(sys.argv[1]) if l.startswith("RESULT round=")]
rs = {(r["round"], r["mode"]): float(r["msgs/s"]) for r in rows if r["size"] == sys.argv[2]}
print(f"size {sys.argv[2]} durable/pagecache per round: " + ", ".join(
    f"{rs[(k, 'durable')] / rs[(k, 'pagecache')]:.2f}" for k in sorted({k for k, _ in rs}) if (k, 'durable') in rs and (k, 'pagecache') in rs))
PY
done
rm -f "$results" "$lat"
rmdir "$DATA_PARENT" 2>/dev/null || true
