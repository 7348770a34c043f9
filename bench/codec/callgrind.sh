#!/usr/bin/env bash
# Instructions per message for fixcodec's frame+parse, counted by callgrind (deterministic,
# unlike timings on a shared machine). Runs fixmux-bench-codec --callgrind, which calls
# cg_frame_parse_<message>(N) once per benchmark message; only those functions are counted.
# Usage: bench/codec/callgrind.sh [path/to/fixmux-bench-codec] [iterations] [--json]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
json=0
args=()
for a in "$@"; do
	if [ "$a" = --json ]; then json=1; else args+=("$a"); fi
done
bin=${args[0]:-${FIXMUX_BUILD_DIR:-$here/build}/bench/codec/fixmux-bench-codec}
exec bash "$here/bench/common/callgrind_count.sh" cg_frame_parse_ codec frame+parse "$bin" \
	"${args[1]:-2000}" "$json"
