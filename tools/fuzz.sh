#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang, AddressSanitizer and UBSan into
# build-fuzz/, and runs each for SECONDS (default 60) from its seed corpus (copied to
# build-fuzz/corpus/, where the corpus grows between runs), with its dictionary where there is
# one. Prints executions and coverage per target; exits 1 when a target finds a crash, a leak
# or undefined behaviour (the input is saved as build-fuzz/<kind>-<hash>).
#   tools/fuzz.sh [SECONDS] [TARGET...]     targets: experiment idx cifar safetensors tuning
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(experiment idx cifar safetensors tuning); fi
command -v clang >/dev/null || { echo "fuzz.sh: needs clang (apt-get install clang)" >&2; exit 2; }
if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined \
        -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C build-fuzz >/dev/null
status=0
for t in "${targets[@]}"; do
    mkdir -p "build-fuzz/corpus/$t"
    cp -n tests/fuzz/corpus/"$t"/* "build-fuzz/corpus/$t/" 2>/dev/null || true
    dict=()
    if [ -f "tests/fuzz/$t.dict" ]; then dict=(-dict="tests/fuzz/$t.dict"); fi
    log="build-fuzz/fuzz-$t.log"
    rc=0
    (cd build-fuzz && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "./tests/fuzz/fuzz_$t" "corpus/$t" ${dict[@]+"${dict[@]/-dict=/-dict=../}"} \
        -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048) >"$log" 2>&1 || rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
    echo "fuzz_$t: $execs runs in ${seconds}s, coverage $cov edges, corpus $(ls "build-fuzz/corpus/$t" | wc -l) inputs, exit $rc"
    if [ "$rc" != 0 ]; then
        grep -m 20 -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x|Test unit written' "$log" >&2 || true
        status=1
    fi
done
exit $status
