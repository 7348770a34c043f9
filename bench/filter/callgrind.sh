#!/usr/bin/env bash
# Instructions per message of the Hyperscan filter for 1, 10, 100 and 1000 rules, counted by
# callgrind (deterministic, unlike timings on a shared machine). valgrind emulates a CPU
# without AVX-512, so Hyperscan runs its AVX2 code here.
# Usage: bench/filter/callgrind.sh [path/to/fixmux-bench-filter] [iterations] [--json]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
json=0
args=()
for a in "$@"; do
	if [ "$a" = --json ]; then json=1; else args+=("$a"); fi
done
bin=${args[0]:-${FIXMUX_BUILD_DIR:-$here/build}/bench/filter/fixmux-bench-filter}
exec bash "$here/bench/common/callgrind_count.sh" cg_filter_rules_ filter hyperscan "$bin" \
	"${args[1]:-2000}" "$json"
