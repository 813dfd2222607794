#!/usr/bin/env bash
# The Swift client's Producer against librdkafka, same records, same broker, same run (issue 7).
#
# Starts a release broker (.build-rel/release/brook) on 127.0.0.1 with a fresh data directory and,
# for 100 B and 1 KiB records, alternates ROUNDS times between:
#   kcat       librdkafka's producer (kcat -P, one record per line of a prepared file, acks=all,
#              linger.ms=5, batch.size=1000000, idempotence off as kcat's default)
#   producer   `brook perf produce --api producer`: the library's Producer, record by record
#              (acks=all, linger.ms=5, batch.size 1 MiB, idempotent by default)
#   batches    `brook perf produce --api batches`: pre-built batches (the broker's ceiling)
# and prints records/s for each. Run from the repository root after
#   swift build -c release --product brook --scratch-path .build-rel
set -euo pipefail
BROOK=${BROOK:-.build-rel/release/brook}
ROUNDS=${ROUNDS:-2}
work=$(mktemp -d /tmp/brook-client-bench.XXXXXX)
trap 'kill "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true; rm -rf "$work"' EXIT
"$BROOK" server --override listeners=PLAINTEXT://127.0.0.1:0 --override log.dirs="$work/data" >"$work/broker.log" 2>&1 &
broker=$!
for _ in $(seq 100); do
  port=$(sed -n 's/.*listening on PLAINTEXT:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/broker.log")
  [ -n "$port" ] && break
  sleep 0.1
done
bootstrap=127.0.0.1:$port
echo "broker on $bootstrap, load $(cut -d' ' -f1-3 /proc/loadavg)"
for size in 100 1024; do
  count=$(( size == 100 ? 2000000 : 500000 ))
  python3 -c "import sys; line=b'x'*$size+b'\n'; sys.stdout.buffer.write(line*$count)" >"$work/lines"
  for round in $(seq "$ROUNDS"); do
    start=$(date +%s.%N)
    kcat -b "$bootstrap" -P -t "kcat-$size-$round" -X linger.ms=5 -X batch.size=1000000 -X acks=all -l "$work/lines"
    end=$(date +%s.%N)
    echo "size=$size round=$round kcat: $(python3 -c "print(f'{$count/($end-$start):,.0f} records/s')")"
    for api in producer batches; do
      line=$("$BROOK" perf produce --bootstrap-server "$bootstrap" --topic "$api-$size-$round" --num-records "$count" \
        --record-size "$size" --api "$api" --linger-ms 5 | tail -1)
      echo "size=$size round=$round $api: $(echo "$line" | sed 's/ records sent, /: /; s/ records\/sec.*//' | cut -d: -f2) records/s"
    done
  done
done
