#!/usr/bin/env bash
# Runs every check and test of the project. It installs what the tests need when it is missing
# (Debian packages), so it works on a fresh machine. Usage: ./scripts/test.sh [go test args…]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

need=()
command -v mosquitto >/dev/null || need+=(mosquitto)
command -v mosquitto_sub >/dev/null || need+=(mosquitto-clients)
command -v socat >/dev/null || need+=(socat)
command -v ffmpeg >/dev/null || need+=(ffmpeg)   # decodes recorded segments in the recorder's tests
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  if [ "$(id -u)" != 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# mosquitto is started by the tests themselves, on free loopback ports; none runs as a service.

echo "== gofmt"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then echo "gofmt would change:"; echo "$bad"; exit 1; fi

echo "== go vet"
go vet ./...

echo "== hub builds without cgo"
CGO_ENABLED=0 go build -o /dev/null ./cmd/hub

echo "== go test -race"
go test -race -count=1 -timeout 20m "$@" ./...

# Every fuzz target for a short, bounded time (FUZZTIME=0 skips this step).
fuzztime=${FUZZTIME:-3s}
if [ "$fuzztime" != 0 ]; then
  echo "== fuzz ($fuzztime each)"
  for pkg in $(go list ./...); do
    for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
      echo "-- $pkg $target"
      go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 100x "$pkg" >/tmp/bailiff-fuzz.log 2>&1 || {
        cat /tmp/bailiff-fuzz.log; echo "fuzz target $target failed"; exit 1; }
    done
  done
fi
echo "== all checks passed"
