#!/usr/bin/env bash
# Builds and tests Starling as CI does. Run as root on Debian 12 (it installs missing packages).
#
#   1. build everything but the tests with g++ at -O2 (the release compiler and its warnings)
#   2. build with ASan+UBSan (clang++-14, the libFuzzer targets in the same tree) and run every
#      test; build the tests of the concurrent parts (ctest label `concurrent`) with TSan and
#      run them
#   3. run each libFuzzer target for a short while, as many at once as there are jobs
#   4. check formatting (clang-format) and lint (clang-tidy)
#
# The CI trees carry no debug info beyond line tables, the sanitizer trees are built
# unoptimised (TSan at -O1), and the tests are built in the sanitizer trees only: compiling is
# most of the time, and a cold run must fit in 30 minutes on two cores.
#
# It stops at the first failing step (unless --keep-going) and always ends with a summary of
# the ctest counts: "Summary: N passed, M failed".
#
# Options:
#   --skip-gcc --skip-asan --skip-tsan --skip-fuzz --skip-format --skip-tidy   leave a step out
#   --fuzz-seconds N    how long each fuzzer runs (default 20)
#   --keep-going        run every step even after a failure
#   -j N                parallel jobs (default: number of cores)
# Build directories live under $STARLING_BUILD_ROOT (default: build-ci/ in the repository).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_ROOT="${STARLING_BUILD_ROOT:-$ROOT/build-ci}"
SHARED_DIR="${STARLING_SHARED_DIR:-$ROOT/../shared}"
JOBS="$(nproc)"
FUZZ_SECONDS=20
KEEP_GOING=0
SKIP_GCC=0 SKIP_ASAN=0 SKIP_TSAN=0 SKIP_FUZZ=0 SKIP_FORMAT=0 SKIP_TIDY=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --skip-gcc) SKIP_GCC=1 ;;
    --skip-asan) SKIP_ASAN=1 ;;
    --skip-tsan) SKIP_TSAN=1 ;;
    --skip-fuzz) SKIP_FUZZ=1 ;;
    --skip-format) SKIP_FORMAT=1 ;;
    --skip-tidy) SKIP_TIDY=1 ;;
    --keep-going) KEEP_GOING=1 ;;
    --fuzz-seconds) FUZZ_SECONDS="$2"; shift ;;
    -j) JOBS="$2"; shift ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

TESTS_PASSED=0
TESTS_FAILED=0
FAILED_STEPS=()
START_TIME=$SECONDS

log() { printf '\n=== [%4ds] %s\n' "$((SECONDS - START_TIME))" "$*"; }

summary() {
  echo
  if [[ ${#FAILED_STEPS[@]} -gt 0 ]]; then
    echo "test.sh: FAILED steps: ${FAILED_STEPS[*]}"
  else
    echo "test.sh: all steps passed in $((SECONDS - START_TIME))s"
  fi
  echo "Summary: ${TESTS_PASSED} passed, ${TESTS_FAILED} failed"
}
trap summary EXIT

# fail STEP MESSAGE: records a failed step; stops unless --keep-going.
fail() {
  FAILED_STEPS+=("$1")
  echo "test.sh: step '$1' FAILED: $2" >&2
  if [[ $KEEP_GOING -eq 0 ]]; then exit 1; fi
}

export CCACHE_BASEDIR="$ROOT"
export CCACHE_NOHASHDIR=1

# configure DIR ARGS...: a Ninja build tree using ccache.
configure() {
  local dir="$1"; shift
  cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "$@" >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; return 1; }
}

# run_ctest STEP DIR [CTEST ARGS...]: runs the tests of a build tree (all of them unless
# arguments select some), output in DIR/ctest.log, and adds their counts to the totals.
run_ctest() {
  local step="$1" dir="$2" rc=0
  shift 2
  local out="$dir/ctest.log"
  (cd "$dir" && ctest --output-on-failure -j"$JOBS" --timeout 600 "$@") >"$out" 2>&1 || rc=$?
  cat "$out"
  local line total failed
  line="$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$out" | tail -1 || true)"
  if [[ -n "$line" ]]; then
    failed="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")"
    total="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")"
    TESTS_PASSED=$((TESTS_PASSED + total - failed))
    TESTS_FAILED=$((TESTS_FAILED + failed))
  elif grep -q "No tests were found" "$out"; then
    rc=1
    echo "test.sh: ctest found no tests in $dir" >&2
  fi
  if [[ $rc -ne 0 ]]; then fail "$step" "ctest reported failures in $dir (log: $out)"; fi
}

# ---------------------------------------------------------------------------------------------
log "dependencies"
"$ROOT/scripts/deps.sh"
mkdir -p "$BUILD_ROOT"

# ---------------------------------------------------------------------------------------------
GCC="$BUILD_ROOT/gcc"
if [[ $SKIP_GCC -eq 1 ]]; then
  log "1/4 g++ build: skipped"
elif ! { log "1/4 build: -O2, g++, all but the tests" &&
         configure "$GCC" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
           -DCMAKE_CXX_COMPILER=g++ -DSTARLING_TESTS=OFF &&
         ninja -C "$GCC" -j"$JOBS"; }; then
  fail "build" "the g++ build failed (see the compiler output above)"
fi

# ---------------------------------------------------------------------------------------------
# One clang tree holds the ASan+UBSan tests and the fuzzers: -fsanitize=fuzzer-no-link gives
# every object the fuzzers' coverage hooks, which the tests run with too.
ASAN="$BUILD_ROOT/asan"
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
FUZZERS=()
ASAN_BUILT=0
if [[ $SKIP_ASAN -eq 0 || $SKIP_FUZZ -eq 0 ]]; then
  log "2/4 build: ASan+UBSan and the fuzzers, clang++-14"
  if configure "$ASAN" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0 -gline-tables-only" \
       -DCMAKE_CXX_COMPILER=clang++-14 -DSTARLING_SANITIZE=ON -DSTARLING_FUZZ=ON \
       -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link; then
    mapfile -t FUZZERS < <(ninja -C "$ASAN" -t targets all |
                           sed -nE 's/^.*: CXX_EXECUTABLE_LINKER__([A-Za-z0-9_]+_fuzz)_[A-Za-z]+$/\1/p' | sort -u)
    if [[ $SKIP_ASAN -eq 0 ]]; then targets=(all); else targets=("${FUZZERS[@]}"); fi
    if [[ ${#targets[@]} -eq 0 ]] || ninja -C "$ASAN" -j"$JOBS" "${targets[@]}"; then
      ASAN_BUILT=1
    else
      fail "asan-build" "the clang++-14 ASan+UBSan build failed"
    fi
  else
    fail "asan-build" "configuring the clang++-14 ASan+UBSan build failed"
  fi
fi
if [[ $SKIP_ASAN -eq 1 ]]; then
  log "2/4 ASan+UBSan tests: skipped"
elif [[ $ASAN_BUILT -eq 1 ]]; then
  log "2/4 test: ASan+UBSan"
  run_ctest "asan-test" "$ASAN"
fi

TSAN="$BUILD_ROOT/tsan"
if [[ $SKIP_TSAN -eq 0 ]]; then
  log "2/4 build and test: TSan, clang++-14, the concurrent parts"
  # The test binaries that carry the `concurrent` label (see starling_test in cmake/).
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/scripts/tsan.supp"
  if configure "$TSAN" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
       -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
       -DCMAKE_CXX_COMPILER=clang++-14 -DSTARLING_TSAN=ON &&
     ninja -C "$TSAN" -j"$JOBS" storage_test wal_test net_test scrape_test remote_test \
       prometheus_scrape_test prometheus_relabel_test prometheus_remote_write_test cluster_test; then
    run_ctest "tsan-test" "$TSAN" -L concurrent
  else
    fail "tsan-build" "the clang++-14 TSan build failed"
  fi
else
  log "2/4 TSan: skipped"
fi

# ---------------------------------------------------------------------------------------------
# Seeds for a fuzzer: its module's testdata/<fuzzer>/ if present, for the language's fuzzers
# the River conformance files, and for the text parsers' fuzzer the OpenMetrics conformance
# expositions (read-only in CI, so they are copied).
seed_corpus() {
  local name="$1" corpus="$2" src dir
  src="$(find "$ROOT/src" -name "$name.cc" -print -quit)"
  [[ -n "$src" ]] || return 0
  dir="$(dirname "$src")"
  if [[ -d "$dir/testdata/$name" ]]; then cp -r "$dir/testdata/$name/." "$corpus/"; fi
  if [[ "$dir" == "$ROOT/src/syntax" && -d "$SHARED_DIR/conformance/river" ]]; then
    local i=0 f
    while IFS= read -r -d '' f; do
      cp "$f" "$corpus/seed_$((i++))_$(basename "$f")"
    done < <(find "$SHARED_DIR/conformance/river" -type f \
               \( -name '*.river' -o -name '*.in' -o -name '*.expect' -o -path '*/fuzz/*' \) \
               -print0)
  fi
  if [[ "$name" == textparse_fuzz && -d "$SHARED_DIR/conformance/openmetrics/parsers" ]]; then
    local c
    for c in "$SHARED_DIR"/conformance/openmetrics/parsers/*/; do
      if [[ -f "$c/metrics" ]]; then cp "$c/metrics" "$corpus/seed_$(basename "$c")"; fi
    done
  fi
}

# run_fuzzer NAME: a short run of one fuzzer over its corpus, output in NAME.log.
run_fuzzer() {
  local name="$1" bin
  bin="$(find "$ASAN" -type f -name "$name" -perm -u+x -print -quit)"
  (cd "$FUZZ" && ASAN_OPTIONS="abort_on_error=1:detect_leaks=1" \
     "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=4096 \
     -artifact_prefix="$FUZZ/artifacts/$name/" -print_final_stats=1 "$FUZZ/corpus/$name") \
    >"$FUZZ/$name.log" 2>&1
}

FUZZ="$ASAN/fuzz"
if [[ $SKIP_FUZZ -eq 1 ]]; then
  log "3/4 fuzz: skipped"
elif [[ $ASAN_BUILT -eq 1 ]]; then
  log "3/4 fuzz: ${#FUZZERS[@]} libFuzzer targets, ${FUZZ_SECONDS}s each, $JOBS at a time"
  [[ ${#FUZZERS[@]} -gt 0 ]] || fail "fuzz" "no *_fuzz targets found"
  declare -A SEEDS
  for name in "${FUZZERS[@]}"; do
    mkdir -p "$FUZZ/corpus/$name" "$FUZZ/artifacts/$name"
    seed_corpus "$name" "$FUZZ/corpus/$name"
    chmod -R u+w "$FUZZ/corpus/$name"  # seeds copied from a read-only tree stay read-only otherwise
    SEEDS[$name]="$(find "$FUZZ/corpus/$name" -type f | wc -l)"
  done
  for ((first = 0; first < ${#FUZZERS[@]}; first += JOBS)); do
    batch=("${FUZZERS[@]:first:JOBS}")
    pids=()
    for name in "${batch[@]}"; do
      run_fuzzer "$name" &
      pids+=($!)
    done
    for i in "${!batch[@]}"; do
      name="${batch[$i]}"
      echo "--- $name (${SEEDS[$name]} corpus files)"
      if wait "${pids[$i]}"; then
        grep -E '^(stat::number_of_executed_units|#[0-9]+ +DONE)' "$FUZZ/$name.log" | tail -2 || true
      else
        tail -n 60 "$FUZZ/$name.log"
        fail "fuzz" "$name found a crash (reproducer in $FUZZ/artifacts/$name, log $FUZZ/$name.log)"
      fi
    done
  done
fi

# ---------------------------------------------------------------------------------------------
log "4/4 static checks"
mapfile -d '' SOURCES < <(find "$ROOT/src" "$ROOT/test" -type f \( -name '*.cc' -o -name '*.h' \) \
                            -not -path '*/testdata/*' -print0 | sort -z)
if [[ $SKIP_FORMAT -eq 0 ]]; then
  echo "--- clang-format: ${#SOURCES[@]} files"
  # Each file it would change gets "FILE:LINE:COL: error: code should be clang-formatted".
  if ! printf '%s\0' "${SOURCES[@]}" |
       xargs -0 -n 32 -P "$JOBS" clang-format-14 --dry-run -Werror >"$BUILD_ROOT/clang-format.log" 2>&1; then
    mapfile -t UNFORMATTED < <(sed -nE 's|^([^:]+):[0-9]+:[0-9]+: error: .*|\1|p' \
                                 "$BUILD_ROOT/clang-format.log" | sed "s|^$ROOT/||" | sort -u)
    if [[ ${#UNFORMATTED[@]} -gt 0 ]]; then
      printf '  not formatted: %s\n' "${UNFORMATTED[@]}"
      fail "format" "${#UNFORMATTED[@]} files are not clang-formatted; fix with: clang-format-14 -i FILE..."
    else
      cat "$BUILD_ROOT/clang-format.log"
      fail "format" "clang-format-14 failed (log: $BUILD_ROOT/clang-format.log)"
    fi
  fi
fi
if [[ $SKIP_TIDY -eq 0 ]]; then
  # Library and binary sources (tests, fuzzers and benchmarks are left out to keep this fast),
  # checked against the clang build's compilation database.
  DB="$ASAN"
  [[ -f "$DB/compile_commands.json" ]] || DB="$GCC"
  mapfile -d '' TIDY_SOURCES < <(find "$ROOT/src" -type f -name '*.cc' \
                                   -not -name '*_test.cc' -not -name '*_fuzz.cc' \
                                   -not -name '*_bench.cc' -print0 | sort -z)
  echo "--- clang-tidy: ${#TIDY_SOURCES[@]} files, compilation database $DB"
  { printf '%s\0' "${TIDY_SOURCES[@]}" |
      xargs -0 -n 1 -P "$JOBS" clang-tidy-14 -p "$DB" --quiet 2>&1 |
      grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^Use -system-headers'
  } >"$BUILD_ROOT/clang-tidy.log" || true
  cat "$BUILD_ROOT/clang-tidy.log"
  if grep -qE '(warning|error): ' "$BUILD_ROOT/clang-tidy.log"; then
    fail "tidy" "clang-tidy findings above (log: $BUILD_ROOT/clang-tidy.log)"
  fi
fi

if [[ ${#FAILED_STEPS[@]} -gt 0 ]]; then exit 1; fi
