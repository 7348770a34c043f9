#!/usr/bin/env bash
# Builds the fixcodec libFuzzer target with clang (ASan + UBSan) into build-fuzz/ and runs it
# for $FUZZ_SECONDS seconds (default 30) over a temporary copy of tests/fuzz/seeds/.
# Exits nonzero on a crash, a sanitizer report or a broken invariant; the input that did it is
# kept as build-fuzz/crash-* (reproduce: build-fuzz/fuzz_codec build-fuzz/crash-...).
# Extra compiler flags: FUZZ_CFLAGS (e.g. -DFUZZ_NO_VALIDATE while fix_validate does not link).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
out="${FUZZ_BUILD_DIR:-$here/build-fuzz}"
secs="${FUZZ_SECONDS:-30}"
mkdir -p "$out"

# Everything fixcodec builds from, as the CMake glob has it, plus the target.
srcs=("$here"/fixcodec/*.c "$here"/fixcodec/dict/*.c "$here/tests/fuzz/fuzz_codec.c")
# shellcheck disable=SC2046,SC2086
clang -std=gnu11 -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	${FUZZ_CFLAGS:-} -I"$here/fixcodec/include" $(pkg-config --cflags libhs) \
	"${srcs[@]}" -o "$out/fuzz_codec" $(pkg-config --libs libhs)

corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp "$here"/tests/fuzz/seeds/* "$corpus"/
echo "fuzz_codec: ${secs}s over $(ls "$corpus" | wc -l) seeds"
# One worker: the machine's cores are shared.
"$out/fuzz_codec" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
	-dict="$here/tests/fuzz/fix.dict" -artifact_prefix="$out/" -print_final_stats=1 "$corpus"
