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
command -v ip >/dev/null || need+=(iproute2)   # the network namespaces of the partition fault (hil-tests)
command -v chromium >/dev/null || need+=(chromium)   # the real browser of the WHIP/WHEP and panel tests
pkg-config --exists opus 2>/dev/null || need+=(libopus-dev pkg-config)   # the agent's microphone path (cgo)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || need+=(postgresql)   # the store on PostgreSQL
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  if [ "$(id -u)" != 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# mosquitto is started by the tests themselves, on free loopback ports; none runs as a service.
# So is PostgreSQL (internal/testutil/pgtest): initdb in a temporary directory, a Unix socket
# there only, as the postgres user when the tests run as root.
# The agent's Opus path (media/source, cgo) is built only with this tag: Debian has libopus but
# not libopusfile, which the Opus package's stream reader would otherwise need.
export GOFLAGS="${GOFLAGS:-} -tags=nolibopusfile"

echo "== gofmt"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then echo "gofmt would change:"; echo "$bad"; exit 1; fi

echo "== go vet"
go vet ./...

echo "== hub builds without cgo (and off Linux, where the simulators' serial lines say they need it)"
CGO_ENABLED=0 go build -o /dev/null ./cmd/hub
GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 go build -o /dev/null ./cmd/hub

echo "== go test -race"
go test -race -count=1 -timeout 20m "$@" ./...

# Every fuzz target for a short, bounded time (FUZZTIME=0 skips this step).
fuzztime=${FUZZTIME:-3s}
fuzzlog=$(mktemp); trap 'rm -f "$fuzzlog"' EXIT
# fuzz_one PKG TARGET fails on a real finding: a crash, a failing input written, a test failure.
# Go's fuzzing coordinator can also end a clean run with a bare "context deadline exceeded"
# when -fuzztime expires while a worker is still busy (golang/go#75804, a race in the
# coordinator, not in our code). That result, with no failing input written, is run once more;
# only a second bare deadline is reported as the harness race and not counted as a finding.
fuzz_one() {
  local pkg=$1 target=$2 try
  for try in 1 2; do
    if go test -run '^$' -fuzz "^${2}\$" -fuzztime "$fuzztime" -fuzzminimizetime 100x "$pkg" >"$fuzzlog" 2>&1; then
      return 0
    fi
    if grep -q 'Failing input written' "$fuzzlog" || ! grep -q '^    context deadline exceeded$' "$fuzzlog" \
      || [ "$(grep -c -- '--- FAIL' "$fuzzlog")" != 1 ]; then
      cat "$fuzzlog"; echo "fuzz target $target failed"; exit 1
    fi
    echo "   (fuzzing coordinator deadline race, no failing input; run $try)"
  done
}
if [ "$fuzztime" != 0 ]; then
  echo "== fuzz ($fuzztime each)"
  for pkg in $(go list ./...); do
    for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
      echo "-- $pkg $target"
      fuzz_one "$pkg" "$target"
    done
  done
fi
echo "== all checks passed"
