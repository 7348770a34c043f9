#!/usr/bin/env bash
# Instructions per 200-byte segment, counted by callgrind (deterministic, unlike timings on a
# shared machine): both stacks run in one thread, without timing, one message at a time.
#   rx_ack      the receiver: the data segment in, its ACK out, the payload to the application
#   tx          the sender: dp_tcp_send of the message, segmentation, the segment out
#   ack_in      the sender: the ACK in, the acknowledged mbuf freed
# Usage: bench/tcp/callgrind.sh [path/to/fixmux-bench-tcp] [iterations] [--json]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
json=0
args=()
for a in "$@"; do
	if [ "$a" = --json ]; then json=1; else args+=("$a"); fi
done
bin=${args[0]:-${FIXMUX_BUILD_DIR:-$here/build}/bench/tcp/fixmux-bench-tcp}
# The shared counter also matches the toggle pattern itself ("cg_tcp_*", no name after the
# prefix, 0 instructions): that line is left out.
bash "$here/bench/common/callgrind_count.sh" cg_tcp_ tcp segment_200B "$bin" \
	"${args[1]:-2000}" "$json" | grep -v -E '"case":""|^ {14} '
