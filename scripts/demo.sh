#!/usr/bin/env bash
# Builds the starling binary (Release) and runs it with examples/demo.river. Run as root on
# Debian 12 (it installs missing packages). Extra arguments go to `starling run`, for example
#   ./scripts/demo.sh --server.http.listen-addr=127.0.0.1:8080
# Stop it with Ctrl-C.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${STARLING_BUILD_ROOT:-$ROOT/build-release}"

"$ROOT/scripts/deps.sh"
export CCACHE_BASEDIR="$ROOT"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$BUILD" -j"$(nproc)" starling

BIN="$BUILD/src/cmd/starling/starling"
"$BIN" --version

# The pipeline's peers, on loopback only: a node exporter to scrape and a Prometheus that
# receives remote write (its data under the build dir). Both stop when the demo stops.
DEMO_DIR="$BUILD/demo"
mkdir -p "$DEMO_DIR/prometheus"
printf 'global:\n  scrape_interval: 1m\n' >"$DEMO_DIR/prometheus.yml"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM
prometheus-node-exporter --web.listen-address=127.0.0.1:19100 >"$DEMO_DIR/node-exporter.log" 2>&1 &
pids+=($!)
prometheus --config.file="$DEMO_DIR/prometheus.yml" --storage.tsdb.path="$DEMO_DIR/prometheus" \
  --web.listen-address=127.0.0.1:19090 --web.enable-remote-write-receiver \
  >"$DEMO_DIR/prometheus.log" 2>&1 &
pids+=($!)

echo
echo "Starting: starling run ${*:+$* }examples/demo.river"
echo "It scrapes itself and a node exporter (127.0.0.1:19100) and writes to Prometheus at"
echo "http://127.0.0.1:19090 (try the query up, or node_load1). Starling logs the address it"
echo "listens on (default 127.0.0.1:12345); try /metrics and /api/v0/web/components there."
echo "Ctrl-C stops everything."
echo
cd "$ROOT"
"$BIN" run --storage.path="$DEMO_DIR/starling-data" "$@" examples/demo.river &
pids+=($!)
wait "${pids[-1]}"
