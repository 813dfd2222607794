#!/usr/bin/env bash
# Idempotent against plain producing through the Swift Producer, same broker, same run (issue 6).
#
# Starts a release broker (.build-rel/release/brook) on 127.0.0.1 with a fresh data directory and,
# for each partition count in PARTS and record size in SIZES, alternates ROUNDS times between
# `brook perf produce --api producer` with enable.idempotence=false and =true (acks=all,
# linger.ms 5, batch.size 1 MiB), each into a topic of its own that is deleted afterwards. Prints
# per round: partitions, record size, idempotence, records/s, and the broker's CPU ticks (10 ms)
# spent in the round, from /proc/PID/stat. DATA_PARENT chooses where the data directory goes
# (default /tmp, on disk; /dev/shm keeps writeback out of the comparison).
# Run from the repository root after
#   swift build -c release --product brook --scratch-path .build-rel
set -euo pipefail
BROOK=${BROOK:-.build-rel/release/brook}
ROUNDS=${ROUNDS:-3}
source "$(dirname "$0")/start-broker.sh"
start_broker idempotence-bench
echo "partitions size idempotence records/s broker-ticks"
for partitions in ${PARTS:-1 6}; do
  for size in ${SIZES:-100 1024}; do
    count=$(( size <= 100 ? 2000000 : 500000 ))
    for round in $(seq "$ROUNDS"); do
      for idempotence in false true; do
        topic="idempotence-$partitions-$size-$round-$idempotence"
        "$BROOK" topics create --bootstrap-server "$bootstrap" --topic "$topic" --partitions "$partitions" >/dev/null
        before=$(cpu)
        line=$("$BROOK" perf produce --bootstrap-server "$bootstrap" --topic "$topic" --num-records "$count" \
          --record-size "$size" --api producer --producer-props "enable.idempotence=$idempotence" | tail -1)
        echo "$partitions $size $idempotence $(echo "$line" | cut -d' ' -f4) $(( $(cpu) - before ))"
        "$BROOK" topics delete --bootstrap-server "$bootstrap" --topic "$topic" >/dev/null
      done
    done
  done
done
