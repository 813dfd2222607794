#!/usr/bin/env bash
# The Swift client library against librdkafka, same records, same broker, same run (issue 7).
#
# Starts a release broker (.build-rel/release/brook) on 127.0.0.1 with a fresh data directory and,
# for 100 B and 1 KiB records, alternates ROUNDS times between these producers, each writing the
# same number of keyless records to a topic of its own (acks=all, linger.ms=5, batch.size 1 MB):
#   kcat        librdkafka's producer (kcat -P -l, one record per line of a prepared file;
#               idempotence off, kcat's default)
#   confluent   confluent-kafka's Producer from Python (scripts/bench/confluent_client.py)
#   producer    `brook perf produce --api producer`: the library's Producer, record by record
#               (idempotent, its default)
#   batches     `brook perf produce --api batches`: pre-built batches (the broker's ceiling)
# and then between these consumers, each reading kcat's topic from the start without a group:
#   kcat        librdkafka's consumer (kcat -C -e -q -f '', every record parsed, none printed)
#   confluent   confluent-kafka's Consumer.consume() in batches of 10,000
#   consumer    `brook perf consume --api consumer`: the library's Consumer, record by record
#   fetches     `brook perf consume --api fetches`: whole batches, counted from their headers
# and prints records/s for each. DATA_PARENT chooses where the broker's data directory goes
# (default /tmp, on disk; /dev/shm keeps the disk's writeback out of a client comparison).
# Run from the repository root after
#   swift build -c release --product brook --scratch-path .build-rel
set -euo pipefail
BROOK=${BROOK:-.build-rel/release/brook}
ROUNDS=${ROUNDS:-2}
here=$(dirname "$0")
source "$(dirname "$0")/start-broker.sh"
start_broker client-bench
rate() { python3 -c "print(f'{$1/($3-$2):,.0f} records/s')"; }
for size in 100 1024; do
  count=$(( size == 100 ? 2000000 : 500000 ))
  python3 -c "import sys; line=b'x'*$size+b'\n'; sys.stdout.buffer.write(line*$count)" >"$work/lines"
  for round in $(seq "$ROUNDS"); do
    start=$(date +%s.%N)
    kcat -b "$bootstrap" -P -t "kcat-$size-$round" -X linger.ms=5 -X batch.size=1000000 -X acks=all -l "$work/lines"
    end=$(date +%s.%N)
    echo "size=$size round=$round produce kcat: $(rate "$count" "$start" "$end")"
    echo "size=$size round=$round produce confluent: $(python3 "$here/confluent_client.py" produce "$bootstrap" "confluent-$size-$round" "$count" "$size" | python3 -c "print(f'{float(input()):,.0f} records/s')")"
    for api in producer batches; do
      line=$("$BROOK" perf produce --bootstrap-server "$bootstrap" --topic "$api-$size-$round" --num-records "$count" \
        --record-size "$size" --api "$api" --linger-ms 5 | tail -1)
      echo "size=$size round=$round produce $api: $(echo "$line" | sed 's/ records sent, /: /; s/ records\/sec.*//' | cut -d: -f2 | python3 -c "print(f'{float(input()):,.0f} records/s')")"
    done
    start=$(date +%s.%N)
    kcat -b "$bootstrap" -C -t "kcat-$size-$round" -o beginning -e -q -f '' -c "$count"
    end=$(date +%s.%N)
    echo "size=$size round=$round consume kcat: $(rate "$count" "$start" "$end")"
    echo "size=$size round=$round consume confluent: $(python3 "$here/confluent_client.py" consume "$bootstrap" "kcat-$size-$round" "$count" | python3 -c "print(f'{float(input()):,.0f} records/s')")"
    for api in consumer fetches; do
      line=$("$BROOK" perf consume --bootstrap-server "$bootstrap" --topic "kcat-$size-$round" --messages "$count" --api "$api" --hide-header)
      echo "size=$size round=$round consume $api: $(echo "$line" | cut -d, -f6 | python3 -c "print(f'{float(input()):,.0f} records/s')")"
    done
  done
done
