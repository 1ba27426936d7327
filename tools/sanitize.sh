#!/usr/bin/env bash
# Builds clgraph and its tests with AddressSanitizer and UBSan into build-asan/ and runs the
# test suite there: any invalid memory access, undefined behaviour or leak of clgraph's fails it
# (tests/lsan.supp leaves out PoCL's and LLVM's own allocations; see there).
#   tools/sanitize.sh [meson test options...]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build-asan/build.ninja ]; then
    meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C build-asan >/dev/null
export ASAN_OPTIONS=abort_on_error=0:detect_leaks=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson test -C build-asan --print-errorlogs --timeout-multiplier 3 "$@"
