# shellcheck shell=bash disable=SC2154  # $root and $bench come from the sourcing script
# Shared by the benchmark scripts (sourced, not run): installs what the harness needs, builds
# the release agent into build-rel and sets $starling to it, and offers free_port and metric.
# Expects $root and $bench to be set.

bash "$root/scripts/deps.sh"
sh "$bench/setup.sh" >/dev/null
cmake -S "$root" -B "$root/build-rel" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$root/build-rel" starling >/dev/null
# shellcheck disable=SC2034  # used by the scripts that source this file
starling=$root/build-rel/src/cmd/starling/starling

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# metric URL REGEX: the sum of the samples whose line matches REGEX (0 when URL is down).
metric() {
  { curl -fsS "$1" 2>/dev/null || true; } |
    awk -v re="$2" '$0 ~ re { s += $NF } END { printf "%.0f\n", s }'
}
