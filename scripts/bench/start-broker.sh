# Sourced by the benchmark scripts: starts "$BROOK" on 127.0.0.1 (an ephemeral port) with a fresh
# data directory under ${DATA_PARENT:-/tmp}, stops it and removes its files on exit, and sets
# `broker` (its pid), `bootstrap` (host:port), `data` and `work` (a scratch folder).
# Usage: start_broker NAME [SERVER-ARG...]   (extra arguments go to `brook server`, e.g. --override k=v)
start_broker() {
  local name=$1; shift
  work=$(mktemp -d "${TMPDIR:-/tmp}/brook-$name.XXXXXX")
  data=$(mktemp -d "${DATA_PARENT:-/tmp}/brook-$name-data.XXXXXX")
  trap 'kill "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true; rm -rf "$work" "$data"' EXIT
  : >"$work/broker.log"  # before the broker's shell opens it: the polling below must find it
  "$BROOK" server --override listeners=PLAINTEXT://127.0.0.1:0 --override log.dirs="$data" "$@" >"$work/broker.log" 2>&1 &
  broker=$!
  local port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on PLAINTEXT:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/broker.log")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "the broker did not start: $(cat "$work/broker.log")" >&2; exit 1; }
  bootstrap=127.0.0.1:$port
  echo "broker on $bootstrap, data in $data, load $(cut -d' ' -f1-3 /proc/loadavg)"
}
