#!/usr/bin/env bash
# Instructions per message for fixcodec's frame+parse, counted by callgrind (deterministic,
# unlike timings on a shared machine). Runs fixmux-bench-codec --callgrind, which calls
# cg_frame_parse_<message>(N) once per benchmark message; only those functions are counted.
# Usage: bench/codec/callgrind.sh [path/to/fixmux-bench-codec] [iterations]  (--json for JSON)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
json=0
args=()
for a in "$@"; do
	if [ "$a" = --json ]; then json=1; else args+=("$a"); fi
done
bin=${args[0]:-${FIXMUX_BUILD_DIR:-$here/build}/bench/codec/fixmux-bench-codec}
iters=${args[1]:-2000}
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
[ -x "$bin" ] || { echo "callgrind.sh: no benchmark binary at $bin (build target fixmux-bench-codec)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" --collect-atstart=no \
	--toggle-collect='cg_frame_parse_*' "$bin" --callgrind --iterations "$iters" \
	>"$out/stdout" 2>"$out/stderr" || { cat "$out/stderr" >&2; exit 1; }
callgrind_annotate --inclusive=yes "$out/cg.out" 2>/dev/null |
	awk -v n="$iters" -v json="$json" '
	/cg_frame_parse_[A-Za-z]+/ {
		ir = $1; gsub(",", "", ir)
		match($0, /cg_frame_parse_[A-Za-z]+/)
		msg = substr($0, RSTART + 15, RLENGTH - 15)
		if (seen[msg]++) next
		if (json)
			printf("{\"bench\":\"codec\",\"workload\":\"frame+parse\",\"msg\":\"%s\",\"impl\":\"fixcodec\",\"instructions_per_msg\":%.1f,\"iterations\":%d,\"tool\":\"callgrind\"}\n", msg, ir / n, n)
		else
			printf("%-14s frame+parse %8.1f instructions/message (%d iterations)\n", msg, ir / n, n)
		found++
	}
	END { if (!found) { print "callgrind.sh: no cg_frame_parse_* counts found" > "/dev/stderr"; exit 1 } }'
