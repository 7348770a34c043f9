#!/usr/bin/env bash
# Shared by bench/*/callgrind.sh: runs BIN --callgrind --iterations N under callgrind, counting
# only inside the functions matching PREFIX* (the benchmark's noinline cg_* wrappers, each
# running one workload N times), and prints instructions per message for each.
# Usage: callgrind_count.sh PREFIX BENCH WORKLOAD BIN ITERATIONS JSON(0|1)
set -euo pipefail
prefix=$1 bench=$2 workload=$3 bin=$4 iters=$5 json=$6
command -v valgrind >/dev/null || { echo "callgrind: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
[ -x "$bin" ] || { echo "callgrind: no benchmark binary at $bin (build it first)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" --collect-atstart=no \
	--toggle-collect="${prefix}*" "$bin" --callgrind --iterations "$iters" \
	>"$out/stdout" 2>"$out/stderr" || { cat "$out/stderr" >&2; exit 1; }
callgrind_annotate --inclusive=yes "$out/cg.out" 2>/dev/null |
	awk -v n="$iters" -v json="$json" -v prefix="$prefix" -v bench="$bench" -v work="$workload" '
	index($0, prefix) {
		ir = $1; gsub(",", "", ir)
		match($0, prefix "[A-Za-z0-9_]+")
		item = substr($0, RSTART + length(prefix), RLENGTH - length(prefix))
		if (seen[item]++) next
		if (json)
			printf("{\"bench\":\"%s\",\"workload\":\"%s\",\"case\":\"%s\",\"instructions_per_msg\":%.1f,\"iterations\":%d,\"tool\":\"callgrind\"}\n", bench, work, item, ir / n, n)
		else
			printf("%-14s %-15s %9.1f instructions/message (%d iterations)\n", item, work, ir / n, n)
		found++
	}
	END { if (!found) { print "callgrind: no " prefix "* counts found" > "/dev/stderr"; exit 1 } }'
