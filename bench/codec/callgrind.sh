#!/usr/bin/env bash
# Instructions per message for fixcodec's frame+parse (and header rewrite, when fixcodec has
# it), counted by callgrind: deterministic, unlike timings on a shared machine. Runs
# fixmux-bench-codec --callgrind, which calls cg_frame_parse_<message>(N) and
# cg_rewrite_<message>(N) once per benchmark message; only those functions are counted.
# Usage: bench/codec/callgrind.sh [path/to/fixmux-bench-codec] [iterations] [--json]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
json=0
args=()
for a in "$@"; do
	if [ "$a" = --json ]; then json=1; else args+=("$a"); fi
done
bin=${args[0]:-${FIXMUX_BUILD_DIR:-$here/build}/bench/codec/fixmux-bench-codec}
iters=${args[1]:-2000}
count=$here/bench/common/callgrind_count.sh
bash "$count" cg_frame_parse_ codec frame+parse "$bin" "$iters" "$json"
if nm "$bin" 2>/dev/null | grep -c " cg_rewrite_NOS$" >/dev/null; then
	bash "$count" cg_rewrite_ codec "header rewrite" "$bin" "$iters" "$json"
fi
