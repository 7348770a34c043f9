#!/usr/bin/env bash
# fixmux with many users at once, on a routed client network: N (default 300) users on the
# kernel's TCP, all connected at the same time, log on, send an order each and receive their
# own ExecutionReport, log out. The users' address (198.18.4.1, on the namespace's loopback)
# is not on fixmux's client network: fixmux reaches it only through client_gateway (the
# kernel's address on the TAP link, which delivers it locally).
#
#   many_users.sh FIXMUX VENUE_SIM [N] [EAL lcores] [cores] [idle]
#
#   namespace fmx-many-<pid> (removed on any exit)
#   client side: fmxc0  kernel 198.18.0.1/24 (+ 198.18.4.1/32 on lo)  <->  fixmux 198.18.0.2
#   venue side:  fmxv0  kernel 198.18.1.1/24  <->  fixmux 198.18.1.2; the venue simulator on
#                198.18.1.1:9880 (exchange mode, no fills)
# Exit 0 pass, 1 fail, 77 skip (not root, no TAP). FIXMUX_E2E_KEEP=1 keeps the work directory.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../../dataplane/fmx_ns.sh"

FIXMUX=$1
VSIM=$2
N=${3:-300}
LCORES=${4:-0}
CORES=${5:-}
IDLE=${6:-backoff}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS=fmx-many-$$
WORK=$(mktemp -d /tmp/fixmux-many.XXXXXX)
FMX_PID=
VSIM_PID=

cleanup() {
	local rc=$?
	set +e
	kill_wait "$FMX_PID" "$VSIM_PID"
	ns_destroy
	[ $rc -ne 0 ] && [ $rc -ne 77 ] && fmx_logs
	if [ -n "${FIXMUX_E2E_KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ns_require "$FIXMUX" "$VSIM"

ns_create

{
	cat <<EOF
[appliance]
client_port = net_tap0
venue_port = net_tap1
client_address = 198.18.0.2/24
client_gateway = 198.18.0.1
venue_address = 198.18.1.2/24
listen_port = 9878
store_dir = $WORK/store
fsync = none
idle = $IDLE
EOF
	[ -z "$CORES" ] || echo "cores = $CORES"
	cat <<EOF

[venue SIM]
type = CLOB

[session SIM.Orders]
address = 198.18.1.1:9880
sender_comp_id = FIXMUX
target_comp_id = SIMVENUE
EOF
	for i in $(seq 0 $((N - 1))); do
		printf '\n[user u%03d]\npassword_hash = none\nsessions = SIM.Orders\nallowed_addresses = 198.18.4.0/24\n' "$i"
	done
} >"$WORK/fixmux.ini"

ip netns exec "$NS" "$FIXMUX" --no-huge --no-shconf --no-pci --no-telemetry -l "$LCORES" -m 512 \
	--file-prefix="fixmux_many_$$" --vdev=net_tap0,iface=fmxc0 --vdev=net_tap1,iface=fmxv0 -- \
	--config "$WORK/fixmux.ini" --stats-file "$WORK/stats.json" \
	>"$WORK/fixmux.out" 2>"$WORK/fixmux.err" &
FMX_PID=$!
wait_listening "$FMX_PID" "$WORK/fixmux.out" || fail "fixmux did not start within 10 s"
if [ -n "$CORES" ]; then
	grep -q "client side on lcore" "$WORK/fixmux.out" ||
		fail "the layout $CORES was not applied: $(head -n1 "$WORK/fixmux.out")"
	echo "ok: $(grep -o 'client side on lcore [^(]*' "$WORK/fixmux.out")"
fi

configure_tap fmxc0 02:00:c6:12:00:01 198.18.0.1/24
configure_tap fmxv0 02:00:c6:12:01:01 198.18.1.1/24
# The users' network, behind the kernel: fixmux's answers to it go to client_gateway.
ip -n "$NS" addr add 198.18.4.1/32 dev lo

ip netns exec "$NS" "$VSIM" --listen 198.18.1.1:9880 --mode exchange --store "$WORK/vsim" \
	--session FIX.4.4:SIMVENUE:FIXMUX --fill-ratio 0 --stats-file "$WORK/vsim.json" \
	--port-file "$WORK/vsim.port" >>"$WORK/vsim.log" 2>&1 &
VSIM_PID=$!
for _ in $(seq 200); do
	[ -s "$WORK/vsim.port" ] && break
	kill -0 "$VSIM_PID" 2>/dev/null || fail "venue simulator died at start-up"
	sleep 0.05
done
[ -s "$WORK/vsim.port" ] || fail "venue simulator not listening after 10 s"

ip netns exec "$NS" "$PY" "$HERE/many_users.py" --users "$N" --source 198.18.4.1 \
	--host 198.18.0.2 --port 9878 --target SIM.Orders --stats "$WORK/stats.json" ||
	fail "users' checks"

kill -TERM "$FMX_PID"
rc=0
wait "$FMX_PID" || rc=$?
FMX_PID=
expect "fixmux exit status after SIGTERM" "$rc" 0
expect "fixmux tcp_refused_no_slot" "$(json "$WORK/stats.json" tcp_refused_no_slot)" 0
expect "fixmux client_drop_no_route" "$(json "$WORK/stats.json" client_drop_no_route)" 0
kill -TERM "$VSIM_PID"
rc=0
wait "$VSIM_PID" || rc=$?
VSIM_PID=
expect "venue simulator exit status" "$rc" 0
expect "venue simulator orders" "$(json "$WORK/vsim.json" orders)" "$N"
echo "PASS: $N users at once through client_gateway"
