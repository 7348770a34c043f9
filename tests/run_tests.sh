#!/usr/bin/env bash
# Runs every fixmux test: installs what is missing, builds (with -Werror), runs ctest (each
# Criterion test is its own ctest test, so the summary counts them), then a short fuzz run.
# Usage: bash tests/run_tests.sh [ctest args...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/tests/deps.sh"
build="${FIXMUX_BUILD_DIR:-$here/build}"
cmake -S "$here" -B "$build" -DFIXMUX_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure -j"$(nproc)" "$@"
# The fuzzer is a clang + sanitizer build of its own, run for a short fixed time.
if [ -x "$here/tests/fuzz/run_fuzz.sh" ]; then
  FUZZ_SECONDS="${FUZZ_SECONDS:-30}" bash "$here/tests/fuzz/run_fuzz.sh"
fi
