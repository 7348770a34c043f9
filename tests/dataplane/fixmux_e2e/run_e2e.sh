#!/usr/bin/env bash
# fixmux end to end: the appliance on two net_tap ports inside a private network namespace,
# the venue simulator behind it and FIX users in front of it, both on the kernel's TCP.
#
#   run_e2e.sh FIXMUX VENUE_SIM PASSWD [two-ports|one-port]
#
#   namespace fmx-e2e-<pid> (removed on any exit, failures included)
#   two-ports (default), the canonical topology:
#     client side: fmxc0  kernel 198.18.0.1/24  <->  fixmux 198.18.0.2 (net_tap0), port 9878
#     venue side:  fmxv0  kernel 198.18.1.1/24  <->  fixmux 198.18.1.2 (net_tap1)
#                  fixmux-venue-sim listens on 198.18.1.1:9880 (exchange mode, no fills)
#   one-port: client_port = venue_port = net_tap0, one stack at 198.18.0.2; the venue
#     simulator listens on 198.18.0.1:9880 behind the same TAP device.
#
# The users (fix_users.py) check a Logon while the venue is down, logons, routing, the local ID-conflict reject, a wrong
# password, the last logout, a user's connection reset and the venue's Logout (the
# simulator stopped, then restarted); this script checks the venue's and
# fixmux's counters and that SIGTERM ends fixmux with status 0 after logging out a user that
# is still online. Exit 0 pass, 1 fail, 77 skip (not root, no TAP).
# FIXMUX_E2E_KEEP=1 keeps the work directory (logs, journals, stats).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../../dataplane/fmx_ns.sh"

FIXMUX=$1
VSIM=$2
PASSWD=$3
MODE=${4:-two-ports}
LCORES=0 CORES=
case "$MODE" in
two-ports)
	VDEVS=(--vdev=net_tap0,iface=fmxc0 --vdev=net_tap1,iface=fmxv0)
	VENUE_PORT=net_tap1 VENUE_ADDR=198.18.1.2/24 VENUE_IP=198.18.1.1
	;;
two-lcores)
	# the two-ports topology and checks, with the client and venue sides on lcore 1 and the
	# multiplexer on lcore 0, talking through the rings
	VDEVS=(--vdev=net_tap0,iface=fmxc0 --vdev=net_tap1,iface=fmxv0)
	VENUE_PORT=net_tap1 VENUE_ADDR=198.18.1.2/24 VENUE_IP=198.18.1.1
	LCORES=0,1 CORES="client:1,venue:1,control:0"
	;;
security)
	# the two-ports topology, running only the protection phase (flood, logon storm)
	VDEVS=(--vdev=net_tap0,iface=fmxc0 --vdev=net_tap1,iface=fmxv0)
	VENUE_PORT=net_tap1 VENUE_ADDR=198.18.1.2/24 VENUE_IP=198.18.1.1
	;;
one-port)
	VDEVS=(--vdev=net_tap0,iface=fmxc0)
	VENUE_PORT=net_tap0 VENUE_ADDR=198.18.0.2/24 VENUE_IP=198.18.0.1
	;;
*)
	echo "usage: run_e2e.sh FIXMUX VENUE_SIM PASSWD [two-ports|two-lcores|one-port|security]" >&2
	exit 2
	;;
esac
PY=/usr/bin/python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS=fmx-e2e-$$
WORK=$(mktemp -d /tmp/fixmux-e2e.XXXXXX)
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

ns_require "$FIXMUX" "$VSIM" "$PASSWD"

in_ns() {
	ip netns exec "$NS" "$@"
}

ns_create

echo "e2e-secret-$$" >"$WORK/pw"
HASH=$("$PASSWD" <"$WORK/pw")
cat >"$WORK/fixmux.ini" <<EOF
[appliance]
client_port = net_tap0
venue_port = $VENUE_PORT
client_address = 198.18.0.2/24
venue_address = $VENUE_ADDR
listen_port = 9878
store_dir = $WORK/store
fsync = none
idle = backoff
${CORES:+cores = $CORES}

logon_failures_per_min = 8

[venue SIM]
type = CLOB

[session SIM.Orders]
address = $VENUE_IP:9880
sender_comp_id = FIXMUX
target_comp_id = SIMVENUE

[user alice]
password_hash = $HASH
sessions = SIM.Orders
allowed_addresses = 198.18.0.0/24

[user bob]
password_hash = $HASH
sessions = SIM.Orders
allowed_addresses = 198.18.0.0/24

[user ivan]
password_hash = $HASH
sessions = SIM.Orders
rate_limit = 20
rate_burst = 20

[user carol]
password_hash = $HASH
sessions = SIM.Orders

[user dave]
password_hash = $HASH
sessions = SIM.Orders

[user erin]
password_hash = $HASH
sessions = SIM.Orders

[user hank]
password_hash = $HASH
sessions = SIM.Orders
allowed_addresses = 198.18.9.9

[user frank]
password_hash = $HASH
sessions = SIM.Orders

[user gina]
password_hash = $HASH
sessions = SIM.Orders
EOF

# fixmux inside the namespace: its TAP devices are born there. Started by ip netns exec itself
# (not through a shell function), so that $! is fixmux's pid and SIGTERM reaches it.
ip netns exec "$NS" "$FIXMUX" --no-huge --no-shconf --no-pci --no-telemetry -l "$LCORES" -m 256 \
	--file-prefix="fixmux_e2e_$$" "${VDEVS[@]}" -- \
	--config "$WORK/fixmux.ini" --stats-file "$WORK/stats.json" \
	>"$WORK/fixmux.out" 2>"$WORK/fixmux.err" &
FMX_PID=$!
wait_listening "$FMX_PID" "$WORK/fixmux.out" || fail "fixmux did not start within 10 s"
if [ -n "$CORES" ]; then
	grep -q "client side on lcore 1, venue side on lcore 1, control on lcore 0" \
		"$WORK/fixmux.out" || fail "not on two lcores: $(head -n1 "$WORK/fixmux.out")"
	echo "ok: sides on lcore 1, the multiplexer on lcore 0"
fi

configure_tap fmxc0 02:00:c6:12:00:01 198.18.0.1/24
[ "$MODE" = one-port ] || configure_tap fmxv0 02:00:c6:12:01:01 198.18.1.1/24

USERS=(in_ns "$PY" "$HERE/fix_users.py" --host 198.18.0.2 --port 9878 --target SIM.Orders
	--password-file "$WORK/pw" --stats "$WORK/stats.json")
if [ "$MODE" = security ]; then
	# a second address on the users' side, for the logon storm
	ip -n "$NS" addr add 198.18.0.3/24 dev fmxc0
fi
# Nothing listens on the venue's address yet: the kernel refuses fixmux's connection.
[ "$MODE" = security ] || "${USERS[@]}" --venue-down || fail "strangers, or a Logon while the venue is down"

# FIXMUX_E2E_CAPTURE=1 (with FIXMUX_E2E_KEEP=1): captures both TAP devices into $WORK/*.pcapng
if [ -n "${FIXMUX_E2E_CAPTURE:-}" ]; then
	for dev in fmxc0 fmxv0; do
		ip -n "$NS" link show "$dev" >/dev/null 2>&1 || continue
		in_ns tshark -i "$dev" -q -w "$WORK/$dev.pcapng" 2>/dev/null &
	done
	sleep 1
fi

# vsim_start: the venue simulator (its journals in $WORK/vsim survive a restart)
vsim_start() {
	rm -f "$WORK/vsim.port"
	ip netns exec "$NS" "$VSIM" --listen "$VENUE_IP:9880" --mode exchange --store "$WORK/vsim" \
		--session FIX.4.4:SIMVENUE:FIXMUX --fill-ratio 0 --md-interval-ms 1 \
		--stats-file "$WORK/vsim.json" \
		--port-file "$WORK/vsim.port" >>"$WORK/vsim.log" 2>&1 &
	VSIM_PID=$!
	for _ in $(seq 200); do
		[ -s "$WORK/vsim.port" ] && break
		kill -0 "$VSIM_PID" 2>/dev/null || fail "venue simulator died at start-up"
		sleep 0.05
	done
	[ -s "$WORK/vsim.port" ] || fail "venue simulator not listening after 10 s"
}
vsim_start
if [ "$MODE" = security ]; then
	"${USERS[@]}" --security --storm 12 --storm-limit 8 || fail "protection checks"
	kill -TERM "$FMX_PID"
	rc=0
	wait "$FMX_PID" || rc=$?
	FMX_PID=
	expect "fixmux exit status after SIGTERM" "$rc" 0
	expect "fixmux journal_errors" "$(json "$WORK/stats.json" journal_errors)" 0
	echo "PASS: fixmux protection over the wire"
	exit 0
fi

"${USERS[@]}" --failure --venue-pid "$VSIM_PID" || fail "users' checks"
# The users stopped the simulator (SIGTERM) as their last step.
rc=0
wait "$VSIM_PID" || rc=$?
VSIM_PID=
expect "venue simulator exit status" "$rc" 0
# Three venue logons (the first user's, again for the failure phase, again for the venue's
# logout), and only the six distinct orders: the duplicate ClOrdID never reached the venue.
expect "venue simulator logons" "$(json "$WORK/vsim.json" logons)" 3
expect "venue simulator orders" "$(json "$WORK/vsim.json" orders)" 6
vsim_start

# Back-pressure toward users (two-ports only, to keep the one-port run short): a reader that
# pauses is served from the send backlog in order; one that stops is reset on overflow.
VENUE_LOGONS=4 FORWARDED=6
if [ "$MODE" != one-port ]; then
	"${USERS[@]}" --slow-reader || fail "slow readers"
	VENUE_LOGONS=6 FORWARDED=$((6 + 90 + 4)) # the orders, frank's and gina's MarketDataRequests
fi

# SIGTERM with a user online: the user is logged out ("shutting down"), then fixmux exits 0.
"${USERS[@]}" --hold-until-shutdown --ready "$WORK/held" >"$WORK/held.log" 2>&1 &
HOLD_PID=$!
for _ in $(seq 300); do
	[ -e "$WORK/held" ] && break
	kill -0 "$HOLD_PID" 2>/dev/null || fail "held user: $(cat "$WORK/held.log")"
	sleep 0.05
done
[ -e "$WORK/held" ] || fail "held user not logged on after 15 s"
kill -TERM "$FMX_PID"
rc=0
wait "$FMX_PID" || rc=$?
FMX_PID=
expect "fixmux exit status after SIGTERM" "$rc" 0
wait "$HOLD_PID" || fail "held user: $(cat "$WORK/held.log")"
cat "$WORK/held.log"

expect "fixmux venue_logons" "$(json "$WORK/stats.json" venue_logons)" "$VENUE_LOGONS"
expect "fixmux venue_sessions_up at exit" "$(json "$WORK/stats.json" venue_sessions_up)" 0
expect "fixmux shutdown_timed_out" "$(json "$WORK/stats.json" shutdown_timed_out)" False
expect "fixmux forwarded_to_venue" "$(json "$WORK/stats.json" forwarded_to_venue)" "$FORWARDED"
# zero copy: messages left in the mbuf they arrived in (header rewritten in its headroom)
[ "$(json "$WORK/stats.json" sent_in_place)" -gt 0 ] ||
	fail "no message was forwarded in place: $(json "$WORK/stats.json" sent_in_place forwarded_inplace segments_in_place)"
echo "ok: sent in place, forwarded in place, segments in place = $(json "$WORK/stats.json" sent_in_place forwarded_inplace segments_in_place)"

kill -TERM "$VSIM_PID"
rc=0
wait "$VSIM_PID" || rc=$?
VSIM_PID=
expect "restarted venue simulator exit status" "$rc" 0
expect "restarted venue simulator logons" "$(json "$WORK/vsim.json" logons)" $((VENUE_LOGONS - 3))
echo "PASS: fixmux end to end ($MODE)"
