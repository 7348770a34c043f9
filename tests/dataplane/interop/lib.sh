# Sourced by run_case.sh. A private network namespace per test run, with fixmux-dp-echo's
# TAP device inside it, and a trap that removes everything (processes, namespace, files) on
# any exit, failures included.
#
#   kernel side: dtap0 198.18.0.1/24 (MAC 02:00:c6:12:00:01) in namespace fixmux-test-<pid>
#   stack side:  198.18.0.2, the PMD's MAC (written by the echo program to $WORK/ready)
#
# The echo program runs inside the namespace (ip netns exec), so the TAP device it creates is
# born there and nothing touches the root namespace.

set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../../dataplane/fmx_ns.sh" # skip, fail, ns_create, ns_destroy

PY=/usr/bin/python3 # Debian's, which has scapy (a pyenv python may shadow it in PATH)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS=fixmux-test-$$
WORK=$(mktemp -d /tmp/fixmux-interop.XXXXXX)
KERNEL_IP=198.18.0.1
STACK_IP=198.18.0.2
KERNEL_MAC=02:00:c6:12:00:01
ECHO_PID=
TSHARK_PID=
STATS=$WORK/stats

cleanup() {
	local rc=$?
	set +e
	[ -n "$TSHARK_PID" ] && kill -TERM "$TSHARK_PID" 2>/dev/null && wait "$TSHARK_PID" 2>/dev/null
	[ -n "$ECHO_PID" ] && kill -TERM "$ECHO_PID" 2>/dev/null && wait "$ECHO_PID" 2>/dev/null
	# anything else still running in the namespace (kernel peers) goes too
	ns_destroy
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		echo "--- kernel side of the TAP"; ip -n "$NS" -s link show dtap0 2>/dev/null
		echo "--- echo log"; tail -n 30 "$WORK/echo.log" 2>/dev/null
		echo "--- stats (non-zero)"; grep -v ' 0$' "$STATS" 2>/dev/null
	fi
	if [ -n "${FIXMUX_INTEROP_KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

check_prereqs() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, TAP)"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	command -v ip >/dev/null || skip "no iproute2"
	[ -x "$ECHO_BIN" ] || fail "no echo program at $ECHO_BIN"
}

# The port the echo program uses: a TAP device (default), or with PORT_KIND=af_packet a veth
# pair whose far end net_af_packet binds.
PORT_KIND=${PORT_KIND:-tap}

# veth_create: veth0 (kernel, 198.18.0.1) <-> veth1 (net_af_packet). Before echo_start.
veth_create() {
	command -v ethtool >/dev/null || skip "no ethtool (needed to turn veth offloads off)"
	ip -n "$NS" link add veth0 type veth peer name veth1
	# The kernel must hand the PMD finished frames: no checksum left to the hardware (veth
	# would pass CHECKSUM_PARTIAL packets through) and no GSO super-frames.
	for i in veth0 veth1; do
		in_ns ethtool -K "$i" tx off rx off tso off gso off gro off >/dev/null
	done
	ip -n "$NS" link set veth0 address "$KERNEL_MAC"
	ip -n "$NS" addr add "$KERNEL_IP/24" dev veth0
	ip -n "$NS" link set veth0 up
	ip -n "$NS" link set veth1 up
}

# echo_start ARGS...: starts fixmux-dp-echo in the namespace and configures the kernel side
# of its TAP device once it is up.
echo_start() {
	rm -f "$WORK/ready" "$STATS"
	local vdev=net_tap0,iface=dtap0 dev=net_tap0
	if [ "$PORT_KIND" = af_packet ]; then
		vdev=net_af_packet0,iface=veth1
		dev=net_af_packet0
	fi
	ip netns exec "$NS" "$ECHO_BIN" --no-huge --no-shconf --no-pci --no-telemetry -l 0 -m 256 \
		--file-prefix="fixmux_interop_$$" --vdev="$vdev" -- --dev "$dev" \
		--ip "$STACK_IP/24" --ready "$WORK/ready" --stats "$STATS" "$@" >"$WORK/echo.log" 2>&1 &
	ECHO_PID=$!
	# 30 s: EAL start-up (256 MB of 4 KiB pages touched) took more than 10 s once while
	# the shared box was compiling.
	for _ in $(seq 600); do
		[ -s "$WORK/ready" ] && break
		kill -0 "$ECHO_PID" 2>/dev/null || fail "echo program died at start-up"
		sleep 0.05
	done
	[ -s "$WORK/ready" ] || fail "echo program not ready after 30 s"
	STACK_MAC=$(cat "$WORK/ready")
	[ "$PORT_KIND" = tap ] || return 0
	# net_tap gives the kernel interface the PMD's own MAC; two ends with one address
	# confuse captures, so the kernel side gets its own.
	ip -n "$NS" link set dtap0 address "$KERNEL_MAC"
	# The PMD reads the TAP one packet per read(); with 2 shared cores it falls behind a
	# kernel sender now and then, and the default queue of 1000 overflows. Losses are the
	# fault injector's job, so the kernel side gets a deep queue.
	ip -n "$NS" link set dtap0 txqueuelen "${FIXMUX_INTEROP_TXQLEN:-10000}"
	ip -n "$NS" addr add "$KERNEL_IP/24" dev dtap0
	ip -n "$NS" link set dtap0 up
}

# echo_stop: SIGTERM, wait; returns the program's exit status. The stats file is final then.
echo_stop() {
	local rc=0
	kill -TERM "$ECHO_PID" 2>/dev/null || true
	wait "$ECHO_PID" || rc=$?
	ECHO_PID=
	ip -n "$NS" link del dtap0 2>/dev/null || true
	return $rc
}

# echo_wait: waits for a client-mode echo program to finish on its own; returns its status.
echo_wait() {
	local rc=0
	wait "$ECHO_PID" || rc=$?
	ECHO_PID=
	return $rc
}

# ctr NAME: a counter from the last stats file written (0 if absent).
ctr() {
	local v
	v=$(awk -v k="$1" '$1 == k { print $2 }' "$STATS" 2>/dev/null)
	echo "${v:-0}"
}

# wait_stat NAME OP VALUE [SECONDS]: waits until the counter satisfies the comparison in a
# stats file written after the call (the echo program rewrites it every 200 ms and numbers
# each rewrite in stats_seq).
wait_stat() {
	local name=$1 op=$2 want=$3 secs=${4:-10} v seq0
	seq0=$(ctr stats_seq)
	for _ in $(seq $((secs * 10))); do
		if [ "$(ctr stats_seq)" -le $((seq0 + 1)) ]; then sleep 0.1; continue; fi
		v=$(ctr "$name")
		if [ "$v" "$op" "$want" ]; then return 0; fi
		sleep 0.1
	done
	fail "counter $name = $(ctr "$name"), wanted $op $want"
}

expect_stat() {
	local name=$1 op=$2 want=$3 v
	v=$(ctr "$name")
	[ "$v" "$op" "$want" ] || fail "counter $name = $v, wanted $op $want"
	echo "ok: $name = $v ($op $want)"
}

# For foreground commands only: in the background a shell function runs in a subshell, and
# $! is the subshell's pid, not the program's. Start background programs with ip netns exec.
in_ns() {
	ip netns exec "$NS" "$@"
}

kpeer() {
	in_ns "$PY" "$HERE/kernel_peer.py" "$@"
}

# tshark_start: capture on the kernel side of the TAP device.
tshark_start() {
	command -v tshark >/dev/null || skip "no tshark"
	ip netns exec "$NS" tshark -i dtap0 -q -w "$WORK/cap.pcapng" 2>"$WORK/tshark.err" &
	TSHARK_PID=$!
	for _ in $(seq 100); do
		grep -q "Capturing on" "$WORK/tshark.err" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "tshark did not start: $(cat "$WORK/tshark.err")"
}

tshark_stop() {
	sleep 0.5 # the last ACKs
	kill -TERM "$TSHARK_PID" 2>/dev/null || true
	wait "$TSHARK_PID" 2>/dev/null || true
	TSHARK_PID=
}
