#!/usr/bin/env bash
# Builds the starling binary (Release) and runs a three-node cluster with examples/demo.river.
# Run as root on Debian 12 (it installs missing packages). Extra arguments go to every
# `starling run`, for example
#   ./scripts/demo.sh --cluster.rejoin-interval=10s
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

# Three agents with the same config form a cluster on their HTTP ports; each joins the first.
cd "$ROOT"
for i in 1 2 3; do
  port=$((12344 + i))
  STARLING_NODE="node-$i" "$BIN" run --storage.path="$DEMO_DIR/starling-data-$i" \
    --server.http.listen-addr="127.0.0.1:$port" --cluster.enabled --cluster.node-name="node-$i" \
    --cluster.advertise-address="127.0.0.1:$port" --cluster.join-addresses=127.0.0.1:12345 \
    "$@" examples/demo.river 2>"$DEMO_DIR/starling-$i.log" &
  pids+=($!)
done

echo
echo "A three-node Starling cluster is running (logs in $DEMO_DIR/starling-N.log):"
for i in 1 2 3; do
  echo "  node-$i  web UI: http://127.0.0.1:$((12344 + i))/"
done
echo "Open a UI's Clustering page for the peers and Targets page for which node scrapes what."
echo "The nodes share the targets of examples/demo-targets.json (themselves, a node exporter on"
echo "127.0.0.1:19100 and Prometheus); each scrapes the ones it owns and writes to Prometheus at"
echo "http://127.0.0.1:19090 (try the query: count by (node) (up)). Kill a node and its targets"
echo "move to the others. Ctrl-C stops everything."
echo
wait "${pids[-1]}"
