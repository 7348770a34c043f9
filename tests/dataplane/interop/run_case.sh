#!/usr/bin/env bash
# Interop cases between fixmux-dp-echo (the fixmux TCP/IP stack over net_tap) and the Linux
# kernel's TCP inside a private network namespace.
#   run_case.sh CASE ECHO_BIN
# Exit 0 pass, 1 fail, 77 skip (not root, no TAP). FIXMUX_INTEROP_KEEP=1 keeps the work dir.
CASE=$1
ECHO_BIN=$2
source "$(dirname "$0")/lib.sh"
check_prereqs
ns_create

# The fault mix of the issue, on the stack's side, in both directions.
FAULTS="drop=0.01,reorder=0.01,dup=0.005,corrupt=0.005"

case "$CASE" in
server_clients)
	# The stack as server for many concurrent kernel clients, closing both ways.
	echo_start --listen 7
	kpeer clients --n 32 --bytes 131072 --close close || fail "clients (close)"
	kpeer clients --n 16 --bytes 131072 --close shutdown || fail "clients (shutdown)"
	wait_stat echo_accepted -eq 48
	wait_stat conns_in_use -eq 0
	expect_stat echo_mismatch -eq 0
	expect_stat tcp_passive_opens -eq 48
	expect_stat tcp_rsts_out -eq 0
	# net_tap offers IPv4 and TCP checksum offload both ways: dp_port found and enabled it
	expect_stat port_csum -eq 15
	# ...and the stack hands the TCP checksum to it (tx_csum = port.csum): the kernel took
	# those segments (every echo above is byte-exact; a bad checksum would have stalled it).
	expect_stat echo_tx_tcp_csum_offload -gt 0
	echo_stop
	;;
server_large)
	# One large transfer echoed byte-exact (window scaling, full windows both ways).
	echo_start --listen 7
	kpeer clients --n 1 --bytes $((16 << 20)) --close shutdown || fail "16 MB echo"
	wait_stat conns_in_use -eq 0
	expect_stat echo_bytes_out -eq $((16 << 20))
	echo_stop
	;;
server_reset)
	# Kernel clients reset their connections (SO_LINGER 0) half-way through the echo.
	echo_start --listen 7
	kpeer clients --n 8 --bytes 65536 --close reset || fail "resetting clients"
	wait_stat echo_closed_reset -eq 8
	wait_stat conns_in_use -eq 0
	expect_stat tcp_rsts_in -ge 8
	echo_stop
	# The stack resets: each connection is aborted after 32 KiB have been echoed.
	echo_start --listen 7 --abort-after 32768
	kpeer clients --n 4 --bytes 131072 --expect-reset || fail "clients did not see the reset"
	wait_stat echo_aborted -eq 4
	wait_stat conns_in_use -eq 0
	expect_stat tcp_rsts_out -ge 4
	echo_stop
	;;
client_active | client_passive)
	# The stack as client of a kernel echo server; it closes first (active) or shuts down
	# writing and waits for the kernel to close (passive).
	mode=${CASE#client_}
	ip netns exec "$NS" "$PY" "$HERE/kernel_peer.py" server --bind 0.0.0.0 --n 8 --ready "$WORK/kready" >"$WORK/kserver.log" 2>&1 &
	KPID=$!
	for _ in $(seq 100); do [ -e "$WORK/kready" ] && break; sleep 0.05; done
	[ -e "$WORK/kready" ] || fail "kernel server did not start"
	# Odd-sized application mbufs: segments made of odd-length pieces, which the stack
	# checksums in software although net_tap offers TCP checksum offload (its 22.11 chain sum
	# gets them wrong: with the offload forced, the kernel took none of them); the even
	# ones go to the PMD. Both kinds must reach the kernel intact.
	echo_start --connect "$KERNEL_IP:9000" --conns 8 --bytes $((2 << 20)) --close "$mode" --chunk 1399 --go "$WORK/go"
	touch "$WORK/go"
	echo_wait || fail "stack client failed (exit $?)"
	wait "$KPID" || fail "kernel server: $(cat "$WORK/kserver.log")"
	expect_stat echo_completed -eq 8
	expect_stat echo_mismatch -eq 0
	expect_stat tcp_active_opens -eq 8
	expect_stat echo_tx_tcp_csum_offload -gt 0
	expect_stat echo_tx_tcp_csum_sw -gt 0
	;;
faults_server)
	echo_start --listen 7 --fault-rx "$FAULTS" --fault-tx "$FAULTS" --seed 7 --rto-min-us 20000
	kpeer clients --n 8 --bytes $((1 << 20)) --close shutdown || fail "clients under faults"
	wait_stat conns_in_use -eq 0 20
	expect_stat echo_mismatch -eq 0
	for f in drop reorder dup corrupt; do
		expect_stat fault_rx_$f -gt 0
		expect_stat fault_tx_$f -gt 0
	done
	# every packet we corrupted on the way in was dropped by the stack: by its checksum
	# check, or earlier by its header check when the flipped byte was in the TCP header
	expect_stat drop_tcp_bad_checksum -eq $(($(ctr fault_rx_corrupt) - $(ctr drop_tcp_bad_header)))
	expect_stat tcp_retransmits -gt 0
	echo_stop
	;;
faults_client)
	ip netns exec "$NS" "$PY" "$HERE/kernel_peer.py" server --bind 0.0.0.0 --n 8 --ready "$WORK/kready" >"$WORK/kserver.log" 2>&1 &
	KPID=$!
	for _ in $(seq 100); do [ -e "$WORK/kready" ] && break; sleep 0.05; done
	echo_start --connect "$KERNEL_IP:9000" --conns 8 --bytes $((1 << 20)) --close active \
		--fault-rx "$FAULTS" --fault-tx "$FAULTS" --seed 11 --rto-min-us 20000 --go "$WORK/go"
	touch "$WORK/go"
	echo_wait || fail "stack client failed under faults (exit $?)"
	wait "$KPID" || fail "kernel server: $(cat "$WORK/kserver.log")"
	expect_stat echo_completed -eq 8
	expect_stat echo_mismatch -eq 0
	for f in drop reorder dup corrupt; do
		expect_stat fault_rx_$f -gt 0
		expect_stat fault_tx_$f -gt 0
	done
	# every packet we corrupted on the way in was dropped by the stack: by its checksum
	# check, or earlier by its header check when the flipped byte was in the TCP header
	expect_stat drop_tcp_bad_checksum -eq $(($(ctr fault_rx_corrupt) - $(ctr drop_tcp_bad_header)))
	;;
af_packet)
	# The same port code over another kind of device: net_af_packet on one end of a veth
	# pair, kernel clients on the other end.
	PORT_KIND=af_packet
	veth_create
	echo_start --listen 7
	kpeer clients --n 8 --bytes 262144 --close close || fail "clients over net_af_packet"
	kpeer clients --n 4 --bytes 262144 --close shutdown || fail "clients over net_af_packet (shutdown)"
	wait_stat echo_accepted -eq 12
	wait_stat conns_in_use -eq 0
	expect_stat echo_mismatch -eq 0
	expect_stat drop_tcp_bad_checksum -eq 0
	echo_stop
	;;
memif)
	# Two stacks in two processes over net_memif (shared memory, a unix control socket):
	# the server echoes, the client checks 4 x 4 MiB byte for byte. No kernel TCP involved.
	sock=$WORK/memif.sock
	eal=(--no-huge --no-shconf --no-pci --no-telemetry -m 256)
	rm -f "$WORK/ready"
	# not in_ns: a shell function in the background is a subshell, and $! would be its pid
	ip netns exec "$NS" "$ECHO_BIN" "${eal[@]}" -l 0 --file-prefix="fixmux_memif_s_$$" \
		--vdev="net_memif0,role=server,id=0,socket=$sock" -- --dev net_memif0 \
		--ip 198.18.2.2/24 --listen 7 --ready "$WORK/ready" --stats "$STATS" >"$WORK/echo.log" 2>&1 &
	ECHO_PID=$!
	for _ in $(seq 200); do [ -s "$WORK/ready" ] && break; sleep 0.05; done
	[ -s "$WORK/ready" ] || fail "memif server not ready"
	in_ns "$ECHO_BIN" "${eal[@]}" -l 1 --file-prefix="fixmux_memif_c_$$" \
		--vdev="net_memif0,role=client,id=0,socket=$sock" -- --dev net_memif0 \
		--ip 198.18.2.1/24 --connect 198.18.2.2:7 --conns 4 --bytes $((4 << 20)) \
		--stats "$WORK/client.stats" >"$WORK/client.log" 2>&1 ||
		fail "memif client: $(tail -5 "$WORK/client.log")"
	STATS=$WORK/client.stats expect_stat echo_completed -eq 4
	STATS=$WORK/client.stats expect_stat echo_mismatch -eq 0
	# memif offers no checksum offload: every checksum is the stack's own.
	STATS=$WORK/client.stats expect_stat echo_tx_tcp_csum_offload -eq 0
	STATS=$WORK/client.stats expect_stat echo_tx_tcp_csum_sw -gt 0
	wait_stat echo_accepted -eq 4
	echo_stop
	;;
faults_bursts)
	# Loss in bursts bounded in time, as from a queue that overflows (2 ms of everything
	# lost, started by 0.2% of the packets, both directions), with the stack as client of
	# the kernel. It used to stall 1 run in 5-20: the kernel's window closed behind our data
	# in flight and it dropped our ACKs numbered SND.MAX (docs/tcp.md, "faults_bursts").
	ip netns exec "$NS" "$PY" "$HERE/kernel_peer.py" server --bind 0.0.0.0 --n 8 --ready "$WORK/kready" >"$WORK/kserver.log" 2>&1 &
	KPID=$!
	for _ in $(seq 100); do [ -e "$WORK/kready" ] && break; sleep 0.05; done
	bursts="drop=0.002,drop_burst_us=2000"
	echo_start --connect "$KERNEL_IP:9000" --conns 8 --bytes $((2 << 20)) --close active \
		--fault-rx "$bursts" --fault-tx "$bursts" --seed "${FIXMUX_INTEROP_SEED:-13}" --rto-min-us 20000 --go "$WORK/go"
	touch "$WORK/go"
	echo_wait || fail "stack client failed under loss bursts (exit $?)"
	wait "$KPID" || fail "kernel server: $(cat "$WORK/kserver.log")"
	expect_stat echo_completed -eq 8
	expect_stat echo_mismatch -eq 0
	expect_stat fault_rx_drop -gt 0
	expect_stat fault_tx_drop -gt 0
	;;
tshark)
	# A clean interop run, captured: no malformed packet, no bad checksum, no TCP analysis
	# flag (retransmission, dup ACK, lost segment, out-of-order...). Window updates and
	# zero/full windows are flow control, not errors, and are allowed.
	echo_start --listen 7
	tshark_start
	kpeer clients --n 8 --bytes 262144 --close close || fail "clients"
	kpeer clients --n 4 --bytes 262144 --close shutdown || fail "clients (shutdown)"
	wait_stat conns_in_use -eq 0
	tshark_stop
	echo_stop
	cap=$WORK/cap.pcapng
	total=$(tshark -r "$cap" 2>/dev/null | wc -l)
	[ "$total" -gt 100 ] || fail "capture has only $total packets"
	bad=$(tshark -r "$cap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -Y \
		'_ws.malformed || _ws.expert.severity >= error || tcp.checksum.status == 0 || ip.checksum.status == 0 || (tcp.analysis.flags && !tcp.analysis.window_update && !tcp.analysis.window_full && !tcp.analysis.zero_window && !tcp.analysis.zero_window_probe && !tcp.analysis.zero_window_probe_ack)' \
		2>/dev/null | tee "$WORK/tshark.bad" | wc -l)
	if [ "$bad" -ne 0 ]; then
		head -20 "$WORK/tshark.bad"
		fail "$bad suspicious packets of $total"
	fi
	echo "ok: $total packets, none malformed or flagged"
	# The capture is the PMD's output: checksums the stack left to net_tap were checked too.
	expect_stat echo_tx_tcp_csum_offload -gt 0
	;;
hostile)
	"$PY" -c "import scapy.all" 2>/dev/null || skip "no scapy for $PY (python3-scapy)"
	echo_start --listen 7 --backlog 8 --arp-static "198.18.0.3=02:00:c6:12:00:03"
	in_ns "$PY" "$HERE/hostile.py" --stack-mac "$STACK_MAC" --stats "$STATS" --backlog 8 || fail "hostile segments"
	echo_stop
	;;
*)
	fail "unknown case $CASE"
	;;
esac
echo "PASS: $CASE"
