#!/usr/bin/env bash
# Runs the scrape-agent benchmark of ../shared/bench with Starling (the `custom` agent) next to
# vmagent and Prometheus in agent mode, on the same targets and receiver, then prints the table.
# Environment: AGENTS, SCALES ("T:S:I ..."), REPS, D as in the harness; RESULTS_TSV (default
# build-rel/bench-results.tsv). Run as root on Debian 12.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bench=${BENCH_DIR:-$root/../shared/bench}

bash "$root/scripts/deps.sh"
sh "$bench/setup.sh"
cmake -S "$root" -B "$root/build-rel" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$root/build-rel" starling

results=${RESULTS_TSV:-$root/build-rel/bench-results.tsv}
export RESULTS_TSV=$results
export CUSTOM_CMD="$root/build-rel/src/cmd/starling/starling run @CONFIG@ --server.http.listen-addr=@LISTEN@ --storage.path=@DATA@"
export CUSTOM_VERSION
CUSTOM_VERSION=$("$root/build-rel/src/cmd/starling/starling" --version | head -1 | awk '{print $3}')
export CUSTOM_CONFIG_TEMPLATE=$bench/starling.river.tmpl
export CUSTOM_SCRAPED_METRIC='^starling_scrape_samples_scraped_total'
export AGENTS=${AGENTS:-"vmagent prometheus-agent custom"}
export REPS=${REPS:-1}
"$bench/all.sh"
"$bench/report.sh" "$results"
