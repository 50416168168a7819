#!/usr/bin/env bash
# Runs Starling and another agent at the same time, on the same targets and receiver as the
# benchmark of ../shared/bench, and prints each one's CPU-ms per million scraped samples and RSS
# per series over the same window. The harness runs agents one after another, and on a shared
# VM the machine's speed drifts between runs by 10-25%; side by side, both agents see the same
# machine, so their ratio is steadier. Use the harness (scripts/bench.sh) for the recorded table.
# It also prints where Starling's CPU went, by thread (scrape lanes, WAL watcher, remote-write
# shards).
#
# Usage: scripts/bench-pair.sh [T S I [SECONDS]]   (default: 200 5000 10 60)
# Environment: OTHER = vmagent (default) or the path of another starling binary, to compare two
# builds; QUEUE_CONFIG = River attributes for Starling's endpoint { queue_config { ... } }, e.g.
# QUEUE_CONFIG='max_samples_per_send = 10000'. Run as root on Debian 12.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bench=${BENCH_DIR:-$root/../shared/bench}
T=${1:-200} S=${2:-5000} I=${3:-10} SECONDS_MEASURED=${4:-60}
WARMUP=40
other=${OTHER:-vmagent}

# shellcheck source=scripts/bench-lib.sh
source "$root/scripts/bench-lib.sh"
# cpu_ticks PID: user + system time of the process, in clock ticks.
cpu_ticks() {
  local line
  read -r line <"/proc/$1/stat"
  awk '{ print $12 + $13 }' <<<"${line##*) }"
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
# thread_ticks PID: "tid name ticks" for each thread of the process, sorted by tid.
thread_ticks() {
  local t line
  for t in /proc/"$1"/task/*; do
    read -r line <"$t/stat" 2>/dev/null || continue
    awk -v tid="${t##*/}" -v name="$(cat "$t/comm" 2>/dev/null)" '{ print tid, name, $12 + $13 }' \
      <<<"${line##*) }"
  done | LC_ALL=C sort
}

work=$(mktemp -d /tmp/bench-pair.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

tdir=$("$bench/targets.sh" "$T" "$S" 20000)
nginx -c "$tdir/nginx.conf" -g 'daemon off;' >"$work/nginx.log" 2>&1 &
pids+=($!)
vm_port=$(free_port)
victoria-metrics -httpListenAddr="127.0.0.1:$vm_port" -storageDataPath="$work/vm" \
  -loggerLevel=WARN >"$work/vm.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$vm_port/health" >/dev/null 2>&1 && break; sleep 0.1; done
rw_url=http://127.0.0.1:$vm_port/api/v1/write

river_targets=$(seq -s, -f '{"__address__" = "127.0.0.1:%g"}' 20000 $((20000 + T - 1)))
sed -e "s|@INTERVAL@|${I}s|g" -e "s|@REMOTE_WRITE_URL@|$rw_url|g" \
  -e "s|@RIVER_TARGETS@|[$river_targets]|g" "$bench/starling.river.tmpl" >"$work/starling.river"
if [[ -n "${QUEUE_CONFIG:-}" ]]; then
  sed -i "s|^\([[:space:]]*url = .*\)$|\1\nqueue_config {\n$QUEUE_CONFIG\n}|" "$work/starling.river"
fi

# start_starling BINARY NAME: sets started_pid and started_url (of its /metrics).
start_starling() {
  local port
  port=$(free_port)
  "$1" run "$work/starling.river" --server.http.listen-addr="127.0.0.1:$port" \
    --storage.path="$work/$2" >"$work/$2.log" 2>&1 &
  started_pid=$! started_url=http://127.0.0.1:$port/metrics
}

start_starling "$starling" starling
a_pid=$started_pid a_url=$started_url
pids+=("$a_pid")
a_scraped='^starling_scrape_samples_scraped_total'
if [[ "$other" == vmagent ]]; then
  b_port=$(free_port)
  targets=$(seq -s, -f "'127.0.0.1:%g'" 20000 $((20000 + T - 1)))
  printf 'global: {scrape_interval: %ss, scrape_timeout: %ss}\nscrape_configs:\n  - job_name: bench\n    static_configs: [{targets: [%s]}]\n' \
    "$I" "$I" "$targets" >"$work/vmagent.yml"
  vmagent -promscrape.config="$work/vmagent.yml" -remoteWrite.url="$rw_url" \
    -remoteWrite.tmpDataPath="$work/vmagent" -httpListenAddr="127.0.0.1:$b_port" \
    -loggerLevel=WARN >"$work/vmagent.log" 2>&1 &
  b_pid=$! b_url=http://127.0.0.1:$b_port/metrics b_scraped='^vm_promscrape_scraped_samples_sum'
else
  start_starling "$other" other
  b_pid=$started_pid b_url=$started_url b_scraped=$a_scraped
fi
pids+=("$b_pid")

sleep "$WARMUP"
a_cpu0=$(cpu_ticks "$a_pid") b_cpu0=$(cpu_ticks "$b_pid")
a_threads0=$(thread_ticks "$a_pid")
a_n0=$(metric "$a_url" "$a_scraped") b_n0=$(metric "$b_url" "$b_scraped")
sleep "$SECONDS_MEASURED"
a_cpu1=$(cpu_ticks "$a_pid") b_cpu1=$(cpu_ticks "$b_pid")
a_threads1=$(thread_ticks "$a_pid")
a_n1=$(metric "$a_url" "$a_scraped") b_n1=$(metric "$b_url" "$b_scraped")
a_rss=$(rss_kb "$a_pid") b_rss=$(rss_kb "$b_pid")
a_shards=$(metric "$a_url" '^prometheus_remote_storage_shards[{]')

hz=$(getconf CLK_TCK)
awk -v t="$T" -v s="$S" -v hz="$hz" -v other="$other" \
    -v ac="$((a_cpu1 - a_cpu0))" -v an="$((a_n1 - a_n0))" -v ar="$a_rss" \
    -v bc="$((b_cpu1 - b_cpu0))" -v bn="$((b_n1 - b_n0))" -v br="$b_rss" 'BEGIN {
  if (an <= 0 || bn <= 0) { print "bench-pair: an agent scraped nothing; see its log" > "/dev/stderr"; exit 1 }
  acpu = ac * 1000 / hz * 1e6 / an; bcpu = bc * 1000 / hz * 1e6 / bn
  arss = ar * 1024 / (t * s); brss = br * 1024 / (t * s)
  printf "%-10s %10s %13s\n", "agent", "CPU-ms/1M", "RSS B/series"
  printf "%-10s %10.0f %13.0f\n", "starling", acpu, arss
  printf "%-10s %10.0f %13.0f\n", (other == "vmagent" ? "vmagent" : "other"), bcpu, brss
  printf "%-10s %10.2f %13.2f\n", "ratio", acpu / bcpu, arss / brss
}'
echo "starling remote-write shards at the end: $a_shards"
# Where Starling's CPU went over the window, by thread name. Threads are matched by id, so that
# threads started during the window (shards after a reshard) count from zero; the CPU of those
# that ended during it is known only from the process total and shown as "(ended)".
echo "starling CPU by thread (ms/s, share):"
LC_ALL=C join -a 2 -e 0 -o 0,2.2,1.3,2.3 <(echo "$a_threads0") <(echo "$a_threads1") |
  awk -v hz="$hz" -v secs="$SECONDS_MEASURED" -v total="$((a_cpu1 - a_cpu0))" '{
    d[$2] += $4 - $3; sum += $4 - $3
  } END {
    if (total > sum * 1.02) d["(ended)"] = total - sum
    if (total < sum) total = sum
    for (n in d) {
      if (d[n] > 0) printf "  %-14s %6.1f %5.0f%%\n", n, d[n] * 1000 / hz / secs, 100 * d[n] / total
    }
  }' | sort -k2 -nr
