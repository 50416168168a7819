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
echo
echo "Starting: starling run ${*:+$* }examples/demo.river"
echo "It logs the address it listens on (default 127.0.0.1:12345); try /-/ready, /metrics and"
echo "/api/v0/web/components/discovery.relabel.demo there (edit examples/demo-targets.json and"
echo "watch it change). Ctrl-C stops it."
echo
cd "$ROOT"
exec "$BIN" run "$@" examples/demo.river
