#!/usr/bin/env bash
# Takes the receiver away for a while under the harness's load and checks that nothing is lost:
# Starling scrapes the targets of ../shared/bench and writes to VictoriaMetrics; the receiver
# is stopped for OUTAGE seconds (with --kill, Starling is also killed with SIGKILL halfway
# through and started again); then the receiver comes back. It prints Starling's RSS, WAL size
# and backlog at each step and how long the backlog took to drain, then reads back a sample of
# series from the receiver and fails when one has a gap longer than 1.5 scrape intervals
# (outside the seconds Starling itself was down) or when samples were failed or dropped.
#
# Usage: scripts/bench-outage.sh [T S I [OUTAGE]] [--kill]   (default: 200 5000 10 60)
# Run as root on Debian 12.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bench=${BENCH_DIR:-$root/../shared/bench}
kill_agent=0
args=()
for a in "$@"; do
  if [[ "$a" == --kill ]]; then kill_agent=1; else args+=("$a"); fi
done
T=${args[0]:-200} S=${args[1]:-5000} I=${args[2]:-10} OUTAGE=${args[3]:-60}
WARMUP=40
CATCHUP_DEADLINE=600

# shellcheck source=scripts/bench-lib.sh
source "$root/scripts/bench-lib.sh"
work=$(mktemp -d /tmp/bench-outage.XXXXXX)
nginx_pid="" vm_pid="" agent_pid=""
cleanup() {
  for p in "$agent_pid" "$vm_pid" "$nginx_pid"; do
    if [[ -n "$p" ]]; then kill "$p" 2>/dev/null || true; fi
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

tdir=$("$bench/targets.sh" "$T" "$S" 20000)
nginx -c "$tdir/nginx.conf" -g 'daemon off;' >"$work/nginx.log" 2>&1 &
nginx_pid=$!
vm_port=$(free_port)
start_receiver() {
  victoria-metrics -httpListenAddr="127.0.0.1:$vm_port" -storageDataPath="$work/vm" \
    -loggerLevel=WARN >>"$work/vm.log" 2>&1 &
  vm_pid=$!
  for _ in $(seq 300); do
    curl -fsS "http://127.0.0.1:$vm_port/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench-outage: the receiver did not start; see $work/vm.log" >&2
  exit 1
}
start_receiver

river_targets=$(seq -s, -f '{"__address__" = "127.0.0.1:%g"}' 20000 $((20000 + T - 1)))
sed -e "s|@INTERVAL@|${I}s|g" -e "s|@REMOTE_WRITE_URL@|http://127.0.0.1:$vm_port/api/v1/write|g" \
  -e "s|@RIVER_TARGETS@|[$river_targets]|g" "$bench/starling.river.tmpl" >"$work/starling.river"
agent_port=$(free_port)
start_agent() {
  "$starling" run "$work/starling.river" --server.http.listen-addr="127.0.0.1:$agent_port" \
    --storage.path="$work/data" >>"$work/starling.log" 2>&1 &
  agent_pid=$!
}
agent_metric() { metric "http://127.0.0.1:$agent_port/metrics" "$1"; }
# Seconds the newest sample sent trails the newest appended; "none" before the first send.
lag() {
  local sent
  sent=$(agent_metric '^prometheus_remote_storage_queue_highest_sent_timestamp_seconds')
  if [[ $sent -eq 0 ]]; then echo none; return; fi
  echo $(($(agent_metric '^prometheus_remote_storage_highest_timestamp_in_seconds') - sent))
}
report() {
  printf '%-16s rss %6d MB  wal %5d MB  send lag %5s s  shards %2d\n' "$1" \
    "$(($(awk '/^VmRSS/ { print $2 }' "/proc/$agent_pid/status") / 1024))" \
    "$(du -sm "$work/data" | cut -f1)" "$(lag)" \
    "$(agent_metric '^prometheus_remote_storage_shards[{]')"
}

start_agent
t_start=$(date +%s)
sleep "$WARMUP"
report "before"
kill "$vm_pid"
wait "$vm_pid" 2>/dev/null || true
down_from=0 down_to=0
if [[ $kill_agent -eq 1 ]]; then
  sleep $((OUTAGE / 2))
  report "outage, half"
  kill -9 "$agent_pid"
  wait "$agent_pid" 2>/dev/null || true
  down_from=$(date +%s)
  sleep 5
  start_agent
  down_to=$(date +%s)
  sleep $((OUTAGE - OUTAGE / 2))
else
  sleep "$OUTAGE"
fi
report "outage, end"
start_receiver
t_back=$(date +%s)
# Drained: what is sent trails what is appended by less than a scrape interval.
until l=$(lag) && [[ $l != none && $l -lt $I ]]; do
  if [[ $(($(date +%s) - t_back)) -gt $CATCHUP_DEADLINE ]]; then
    echo "bench-outage: the backlog did not drain in ${CATCHUP_DEADLINE}s" >&2
    exit 1
  fi
  sleep 1
done
echo "backlog drained in $(($(date +%s) - t_back))s after the receiver came back"
sleep $((2 * I))
report "after"
t_end=$(date +%s)

lost=$(($(agent_metric '^prometheus_remote_storage_samples_failed_total') + \
        $(agent_metric '^prometheus_remote_storage_samples_dropped_total')))
curl -fsS "http://127.0.0.1:$vm_port/internal/force_flush" >/dev/null
sleep 2
# A sample of series: every 40th target's up, a synthetic and a node exporter series.
status=0
for ((k = 0; k < T; k += 40)); do
  inst="127.0.0.1:$((20000 + k))"
  for q in "up{instance=\"$inst\"}" "app_queue_length{instance=\"$inst\",queue=\"q3\",pod=\"app-00001-x7k2q\"}"; do
    curl -fsS "http://127.0.0.1:$vm_port/api/v1/export" --data-urlencode "match[]=$q" \
      --data-urlencode "start=$t_start" --data-urlencode "end=$t_end" |
      python3 -c '
import json, sys
interval_ms, down_from, down_to, query = int(sys.argv[1]) * 1000, int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = [json.loads(line) for line in sys.stdin if line.strip()]
if not rows:
    print("MISSING", query); sys.exit(1)
ts = sorted(rows[0]["timestamps"])
bad = []
for a, b in zip(ts, ts[1:]):
    # A gap is allowed only where it overlaps the seconds the agent was down.
    if b - a > interval_ms * 3 // 2 and not (down_to and a <= down_to * 1000 + interval_ms and b >= down_from * 1000):
        bad.append((a, b - a))
print("%-4s %s: %d samples over %d s" % ("ok" if not bad else "GAPS", query, len(ts), (ts[-1] - ts[0]) // 1000))
for a, gap in bad[:5]:
    print("     gap of %.1f s after %d" % (gap / 1000, a))
sys.exit(1 if bad else 0)' "$I" "$down_from" "$down_to" "$q" || status=1
  done
done
echo "samples failed or dropped: $lost"
[[ $lost -eq 0 ]] || status=1
exit $status
