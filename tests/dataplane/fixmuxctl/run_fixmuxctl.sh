#!/usr/bin/env bash
# fixmuxctl against a running fixmux: the appliance on two net_tap ports in a private network
# namespace (the topology of fixmux_e2e/run_e2e.sh), the venue simulator behind it, FIX users
# in front of it (check_fixmuxctl.py, with fix_users.py's User), and every fixmuxctl command,
# its table and its JSON, plus the run-time changes checked by their effect.
#
#   run_fixmuxctl.sh FIXMUX VENUE_SIM PASSWD FIXMUXCTL
#
#   client side: fmxc0  kernel 198.18.0.1/24  <->  fixmux 198.18.0.2 (net_tap0), port 9878
#   venue side:  fmxv0  kernel 198.18.1.1/24  <->  fixmux 198.18.1.2 (net_tap1)
#   fixmux runs with telemetry and --file-prefix fmxctl_<pid>; the venue side is captured with
#   tshark so that the HeartBtInt of each venue Logon can be read.
#
# Exit 0 pass, 1 fail, 77 skip (not root, no TAP). FIXMUX_E2E_KEEP=1 keeps the work directory.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../../dataplane/fmx_ns.sh"

FIXMUX=$1
VSIM=$2
PASSWD=$3
CTL=$4
PY=/usr/bin/python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS=fmx-ctl-$$
PREFIX=fmxctl_$$
WORK=$(mktemp -d /tmp/fixmux-ctl.XXXXXX)
FMX_PID=
VSIM_PID=
CAP_PID=

cleanup() {
	local rc=$?
	set +e
	kill_wait "$FMX_PID" "$VSIM_PID" "$CAP_PID"
	ns_destroy
	rm -rf "/var/run/dpdk/$PREFIX"
	[ $rc -ne 0 ] && [ $rc -ne 77 ] && fmx_logs
	if [ -n "${FIXMUX_E2E_KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v tshark >/dev/null || skip "no tshark"
ns_require "$FIXMUX" "$VSIM" "$PASSWD" "$CTL"

# Before anything runs: no fixmux with this prefix, and the error names the socket.
rc=0
"$CTL" --file-prefix "$PREFIX" status >"$WORK/none.out" 2>"$WORK/none.err" || rc=$?
[ $rc -eq 1 ] || fail "fixmuxctl without a fixmux: exit $rc, wanted 1"
grep -q "/var/run/dpdk/$PREFIX/dpdk_telemetry.v2" "$WORK/none.err" ||
	fail "fixmuxctl without a fixmux does not name the socket: $(cat "$WORK/none.err")"
echo "ok: no fixmux running: $(cat "$WORK/none.err")"

ns_create

echo "ctl-secret-$$" >"$WORK/pw"
HASH=$("$PASSWD" <"$WORK/pw")
# write_config EXTRA_FOR_ALICE: the configuration, with extra lines in alice's section
write_config() {
	cat >"$WORK/fixmux.ini" <<EOF
[appliance]
client_port = net_tap0
venue_port = net_tap1
client_address = 198.18.0.2/24
venue_address = 198.18.1.2/24
listen_port = 9878
store_dir = $WORK/store
fsync = none
idle = backoff

[venue SIM]
type = CLOB

[session SIM.Orders]
address = 198.18.1.1:9880
sender_comp_id = FIXMUX
target_comp_id = SIMVENUE
heartbeat = 30

[user alice]
password_hash = $HASH
sessions = SIM.Orders
$1

[user bob]
password_hash = $HASH
sessions = SIM.Orders
EOF
}
write_config ""

ip netns exec "$NS" "$FIXMUX" --no-huge --no-pci -l 0 -m 256 --file-prefix="$PREFIX" \
	--vdev=net_tap0,iface=fmxc0 --vdev=net_tap1,iface=fmxv0 -- \
	--config "$WORK/fixmux.ini" --stats-file "$WORK/stats.json" \
	>"$WORK/fixmux.out" 2>"$WORK/fixmux.err" &
FMX_PID=$!
wait_listening "$FMX_PID" "$WORK/fixmux.out" || fail "fixmux did not start within 10 s"

configure_tap fmxc0 02:00:c6:12:00:01 198.18.0.1/24
configure_tap fmxv0 02:00:c6:12:01:01 198.18.1.1/24

ip netns exec "$NS" tshark -i fmxv0 -q -f "tcp port 9880" -w "$WORK/venue.pcapng" \
	>/dev/null 2>"$WORK/tshark.err" &
CAP_PID=$!
for _ in $(seq 100); do
	grep -q "Capturing on" "$WORK/tshark.err" 2>/dev/null && break
	sleep 0.1
done

rm -f "$WORK/vsim.port"
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

ip netns exec "$NS" "$PY" "$HERE/check_fixmuxctl.py" --ctl "$CTL" --file-prefix "$PREFIX" \
	--host 198.18.0.2 --port 9878 --target SIM.Orders --password-file "$WORK/pw" \
	--stats "$WORK/stats.json" --work "$WORK" --fixmux-err "$WORK/fixmux.err" \
	--users-py "$HERE/../fixmux_e2e" || fail "fixmuxctl checks"

kill -TERM "$FMX_PID"
rc=0
wait "$FMX_PID" || rc=$?
FMX_PID=
[ $rc -eq 0 ] || fail "fixmux exit status $rc after SIGTERM"
echo "PASS: fixmuxctl"
