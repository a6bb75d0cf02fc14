#!/usr/bin/env bash
# Loads one hub with simulated agents and API clients and prints loadgen's report.
#
#   ./scripts/loadtest.sh embedded|mosquitto [loadgen run flags…]
#
# It builds the hub and loadgen (CGO_ENABLED=0), provisions 1,000 agents (AGENTS=…) in a fresh
# data directory with `loadgen provision`, starts mosquitto with the generated password file,
# ACL and config when asked, then lets `loadgen run --hub-cmd` start the hub as its child,
# measure it and stop it. HUB_BIN=path uses that hub binary instead (to compare builds). PPROF=127.0.0.1:6060 serves the hub's profiler there. Everything listens on loopback; everything is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
mode=${1:?usage: loadtest.sh embedded|mosquitto [loadgen run flags…]}
shift
agents=${AGENTS:-1000}
work=$(mktemp -d)
mq_pid=
cleanup() {
  if [ -n "$mq_pid" ]; then kill "$mq_pid" 2>/dev/null || true; wait "$mq_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http_port=$(free_port)
mqtt_port=$(free_port)

if [ -n "${HUB_BIN:-}" ]; then cp "$HUB_BIN" "$work/hub"; else CGO_ENABLED=0 go build -o "$work/hub" ./cmd/hub; fi
CGO_ENABLED=0 go build -o "$work/loadgen" ./cmd/loadgen
mkdir -p "$work/rooms" "$work/data"

cat >"$work/hub.yaml" <<YAML
http:
  listen: 127.0.0.1:$http_port
data: $work/data
rooms: $work/rooms
log:
  level: warn
mqtt:
  listen: 127.0.0.1:$mqtt_port
YAML

case $mode in
embedded)
  "$work/loadgen" provision --data "$work/data" --agents "$agents" --creds "$work/creds.json" \
    --broker "tcp://127.0.0.1:$mqtt_port"
  ;;
mosquitto)
  hubpw=$(head -c 18 /dev/urandom | base64)
  printf '%s' "$hubpw" >"$work/hub-mqtt.pw"
  "$work/loadgen" provision --data "$work/data" --agents "$agents" --creds "$work/creds.json" \
    --broker "tcp://127.0.0.1:$mqtt_port" --mosquitto "$work/mosquitto" \
    --mosquitto-listen "127.0.0.1:$mqtt_port" --hub-user hub --hub-password "$hubpw"
  cat >>"$work/hub.yaml" <<YAML
  external:
    url: tcp://127.0.0.1:$mqtt_port
    username: hub
    password_file: $work/hub-mqtt.pw
YAML
  mosquitto -c "$work/mosquitto/mosquitto.conf" &
  mq_pid=$!
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null && break; sleep 0.1; done
  echo "mosquitto $(mosquitto -h 2>/dev/null | head -1 | awk '{print $3}') pid $mq_pid"
  ;;
*)
  echo "usage: loadtest.sh embedded|mosquitto [loadgen run flags…]" >&2
  exit 2
  ;;
esac

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/loadgen" run --creds "$work/creds.json" --hub "http://127.0.0.1:$http_port" \
  --hub-cmd "$work/hub --config $work/hub.yaml ${PPROF:+--pprof $PPROF}" "$@"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$mq_pid" ]; then
  echo "mosquitto: $(grep -E 'VmHWM|VmRSS' /proc/$mq_pid/status | tr -s ' \n' ' '), CPU $(awk '{printf "%.1fs", ($14+$15)/100}' /proc/$mq_pid/stat)"
fi
