#!/usr/bin/env bash
# fixmux with QuickFIX C++ peers: two users (fixmux-qf-user) and a venue (fixmux-qf-venue),
# the appliance on two net_tap ports inside a private network namespace, as in
# tests/dataplane/fixmux_e2e/run_e2e.sh (same topology and addresses):
#
#   client side: fmxc0  kernel 198.18.0.1/24  <->  fixmux 198.18.0.2 (net_tap0), port 9878
#   venue side:  fmxv0  kernel 198.18.1.1/24  <->  fixmux 198.18.1.2 (net_tap1)
#                fixmux-qf-venue listens on 198.18.1.1:9880
#
#   run_qf.sh FIXMUX PASSWD QF_USER QF_VENUE SCENARIO
#
# SCENARIO:
#   kill9       alice and bob send orders; fixmux is killed with SIGKILL in the middle of the
#               flow and restarted on the same store; everyone reconnects by itself.
#   kill9-pending  bob logs out with open orders; the venue fills them (alice stays on); fixmux
#               is killed with bob's fills in its pending queue, restarted; bob logs on again.
#   kill9-delivery  bob's 1500 fills are pending in fixmux; fixmux is killed as their delivery
#               starts at bob's next Logon, restarted; bob gets the rest (and asks for what was
#               lost in the dead connection).
#   logout-mid-flow  bob logs out in the middle of the flow, his reports arriving meanwhile wait
#               for his next Logon.
#   kill9-venue  the venue is killed with SIGKILL in the middle of the flow and restarted on
#               its FileStore; fixmux logs the users out (its Logout held back from them for
#               0.5 s while their orders keep coming) and they come back by themselves.
#               Not in ctest: it fails on a fixmux bug, see tests/dataplane/qf.cmake.
#   venue-gaps  (1) the venue fills orders while their owners are logged out (and fixmux's
#               venue session with them); alice's reconnection brings the venue session
#               back, fixmux asks for the gap, alice gets hers at once, bob his at his own
#               next Logon. (2) the venue loses the last messages fixmux sent it (its expected
#               sequence number rewound while it is stopped, as a venue restored from an older
#               store); at alice's next Logon the venue asks fixmux to resend them.
#   reset       alice's TCP connection is reset (ss -K) while both users have open orders; the
#               venue cancels open orders when its session ends.
#   reset-flow  alice's connection is reset while bob keeps sending orders into his logout
#               cycle (fixmux's Logout held back from him for 0.5 s).
# Each scenario ends with check_accounts.py (ClOrdID and ExecID accounting on the users' side
# against the venue's log). Exit 0 pass, 1 fail, 77 skip (not root, no TAP).
# FIXMUX_QF_KEEP=1 keeps the work directory (logs, stores, journals).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../../dataplane/fmx_ns.sh"

FIXMUX=$1
PASSWD=$2
QF_USER=$3
QF_VENUE=$4
SCENARIO=$5
PY=/usr/bin/python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS=fmx-qf-$$
WORK=$(mktemp -d /tmp/fixmux-qf.XXXXXX)
FMX_PID=
VENUE_PID=
declare -A USER_PID=()

cleanup() {
	local rc=$?
	set +e
	for u in "${!USER_PID[@]}"; do kill -KILL "${USER_PID[$u]}" 2>/dev/null; done
	kill_wait "$FMX_PID" "$VENUE_PID"
	ns_destroy
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		echo "--- fixmux stdout"; tail -n 20 "$WORK/fixmux.out" 2>/dev/null
		echo "--- fixmux stderr"; tail -n 40 "$WORK/fixmux.err" 2>/dev/null
		echo "--- venue"; tail -n 20 "$WORK/venue/venue.log" 2>/dev/null
		for u in alice bob; do
			echo "--- $u events"; cat "$WORK/$u/events.log" 2>/dev/null
			echo "--- $u stderr"; tail -n 5 "$WORK/$u/stderr" 2>/dev/null
		done
	fi
	if [ -n "${FIXMUX_QF_KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ns_require "$FIXMUX" "$PASSWD" "$QF_USER" "$QF_VENUE"

in_ns() {
	ip netns exec "$NS" "$@"
}

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s
wait_for() {
	local secs=$1 what=$2
	shift 2
	for _ in $(seq $((secs * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	fail "$what (after $secs s)"
}

# count FILE REGEX: lines of FILE matching REGEX (0 when FILE is absent)
count() {
	if [ -e "$1" ]; then grep -c -E "$2" "$1" || true; else echo 0; fi
}

at_least() {
	[ "$(count "$1" "$2")" -ge "$3" ]
}

ns_create
mkdir -p "$WORK/venue" "$WORK/alice" "$WORK/bob"

echo "qf-secret-$$" >"$WORK/pw"
HASH=$("$PASSWD" <"$WORK/pw")
# heartbeat 2: after fixmux's SIGKILL the venue still holds the old connection; its next
# Heartbeat reaches the restarted stack, which resets it, so the venue takes the new Logon.
cat >"$WORK/fixmux.ini" <<EOF
[appliance]
client_port = net_tap0
venue_port = net_tap1
client_address = 198.18.0.2/24
venue_address = 198.18.1.2/24
listen_port = 9878
store_dir = $WORK/store
fsync = batch
idle = backoff

[venue SIM]
type = CLOB

[session SIM.Orders]
address = 198.18.1.1:9880
sender_comp_id = FIXMUX
target_comp_id = SIMVENUE
heartbeat = 2

[user alice]
password_hash = $HASH
sessions = SIM.Orders

[user bob]
password_hash = $HASH
sessions = SIM.Orders
EOF

# fixmux_start: fixmux on the same configuration and store each time. Its TAP devices are
# born with it (and die with it), so their kernel side is configured again after each start.
FMX_RUN=0
fixmux_start() {
	FMX_RUN=$((FMX_RUN + 1))
	: >"$WORK/fixmux.out"
	ip netns exec "$NS" "$FIXMUX" --no-huge --no-shconf --no-pci --no-telemetry -l 0 -m 256 \
		--file-prefix="fixmux_qf_$$_$FMX_RUN" \
		--vdev=net_tap0,iface=fmxc0 --vdev=net_tap1,iface=fmxv0 -- \
		--config "$WORK/fixmux.ini" --stats-file "$WORK/stats.json" \
		>"$WORK/fixmux.out" 2>>"$WORK/fixmux.err" &
	FMX_PID=$!
	for _ in $(seq 200); do
		grep -q "listening on" "$WORK/fixmux.out" 2>/dev/null && break
		kill -0 "$FMX_PID" 2>/dev/null || fail "fixmux died at start-up (run $FMX_RUN)"
		sleep 0.05
	done
	grep -q "listening on" "$WORK/fixmux.out" || fail "fixmux not up after 10 s"
	configure_tap fmxc0 02:00:c6:12:00:01 198.18.0.1/24
	configure_tap fmxv0 02:00:c6:12:01:01 198.18.1.1/24
}

fixmux_stop() {
	local rc=0
	kill -TERM "$FMX_PID"
	wait "$FMX_PID" || rc=$?
	FMX_PID=
	[ "$rc" -eq 0 ] || fail "fixmux exit status $rc after SIGTERM"
}

# The venue binds the wildcard address: it can start before fixmux's TAP devices exist.
VENUE_ARGS=()
venue_start() {
	: >"$WORK/venue.out"
	ip netns exec "$NS" "$QF_VENUE" --dir "$WORK/venue" --port 9880 "${VENUE_ARGS[@]}" \
		>"$WORK/venue.out" 2>>"$WORK/venue.err" &
	VENUE_PID=$!
	wait_for 10 "venue listening" grep -q listening "$WORK/venue.out"
}

venue_stop() {
	local rc=0
	kill -TERM "$VENUE_PID"
	wait "$VENUE_PID" || rc=$?
	VENUE_PID=
	[ "$rc" -eq 0 ] || fail "venue exit status $rc"
}

# user_start NAME ORDERS RATE PREFIX: a QuickFIX user in the background (its store and logs in
# $WORK/NAME survive restarts of the program)
user_start() {
	local name=$1 orders=$2 rate=$3 prefix=$4
	rm -f "$WORK/$name/sent.done"
	ip netns exec "$NS" "$QF_USER" --dir "$WORK/$name" --host 198.18.0.2 --port 9878 \
		--user "$name" --target SIM.Orders --password-file "$WORK/pw" \
		--orders "$orders" --rate "$rate" --prefix "$prefix" 2>>"$WORK/$name/stderr" &
	USER_PID[$name]=$!
}

# user_stop NAME: SIGTERM, QuickFIX logs out, exit 0
user_stop() {
	local name=$1 rc=0
	kill -TERM "${USER_PID[$name]}"
	wait "${USER_PID[$name]}" || rc=$?
	unset "USER_PID[$name]"
	[ "$rc" -eq 0 ] || fail "$name exit status $rc"
}

logons() {
	count "$WORK/$1/events.log" '^logon$'
}

accounts() {
	"$PY" "$HERE/check_accounts.py" "$WORK/venue" "$WORK/alice" "$WORK/bob" "$@"
}

scenario_kill9() {
	venue_start
	fixmux_start
	# 2 x 400 orders at 150/s each: about 3 s of flow, killed after the first 150 of alice's,
	# when orders and reports are on the wire in both directions.
	user_start alice 400 150 A
	user_start bob 400 150 B
	wait_for 20 "alice's first 150 orders" at_least "$WORK/alice/sent.log" . 150
	kill -KILL "$FMX_PID"
	wait "$FMX_PID" 2>/dev/null || true
	FMX_PID=
	echo "fixmux killed after $(count "$WORK/alice/sent.log" .) + $(count "$WORK/bob/sent.log" .) orders"
	fixmux_start
	wait_for 40 "alice sent all" test -e "$WORK/alice/sent.done"
	wait_for 40 "bob sent all" test -e "$WORK/bob/sent.done"
	accounts --wait 30 || fail "accounting after kill -9"
	[ "$(logons alice)" -ge 2 ] || fail "alice did not log on again"
	[ "$(logons bob)" -ge 2 ] || fail "bob did not log on again"
	user_stop alice
	user_stop bob
	fixmux_stop
	venue_stop
}

scenario_kill9-pending() {
	# bob logs out with open orders; their fills wait in fixmux's pending queue when fixmux is
	# killed; alice stays online throughout (the venue session stays up).
	VENUE_ARGS=(--hold-fills)
	venue_start
	fixmux_start
	user_start alice 100 200 A
	user_start bob 100 200 B
	wait_for 20 "alice's acknowledgements" at_least "$WORK/alice/er.log" ' 0 [YN]$' 100
	wait_for 20 "bob's acknowledgements" at_least "$WORK/bob/er.log" ' 0 [YN]$' 100
	user_stop bob
	kill -USR1 "$VENUE_PID"
	wait_for 20 "the venue's fills" at_least "$WORK/venue/venue.log" '^er .* 2$' 200
	wait_for 20 "alice's fills" at_least "$WORK/alice/er.log" ' 2 [YN]$' 100
	[ "$(count "$WORK/bob/er.log" ' 2 [YN]$')" -eq 0 ] || fail "bob got fills while logged out"
	kill -KILL "$FMX_PID"
	wait "$FMX_PID" 2>/dev/null || true
	FMX_PID=
	fixmux_start
	wait_for 30 "alice logged on again" at_least "$WORK/alice/events.log" '^logon$' 2
	user_start bob 0 1 B2
	accounts --wait 30 || fail "accounting after kill -9 with bob's fills pending"
	user_stop alice
	user_stop bob
	fixmux_stop
	venue_stop
}

scenario_kill9-venue() {
	# The venue is killed with SIGKILL in the middle of the flow and restarted on its store:
	# what fixmux sent into the dead connection is a gap the venue finds at the next Logon.
	venue_start
	fixmux_start
	user_start alice 400 150 A
	user_start bob 400 150 B
	wait_for 20 "alice's first 150 orders" at_least "$WORK/alice/sent.log" . 150
	# The users do not see fixmux's Logout for half a second (the kernel's side of the TAP
	# changes its MAC, so frames from fixmux's ARP cache are not for it) while their orders
	# still reach fixmux: what fixmux does with orders that arrive after it logged a user out
	# (its session still takes them) is then exercised every run, not by chance.
	ip -n "$NS" link set fmxc0 address 02:00:c6:12:00:99
	kill -KILL "$VENUE_PID"
	wait "$VENUE_PID" 2>/dev/null || true
	VENUE_PID=
	wait_for 10 "bob logged out by fixmux" grep -q "user bob on SIM.Orders: logged out" "$WORK/fixmux.err"
	sleep 0.5
	ip -n "$NS" link set fmxc0 address 02:00:c6:12:00:01
	echo "venue killed after $(count "$WORK/alice/sent.log" .) + $(count "$WORK/bob/sent.log" .) orders"
	venue_start
	wait_for 40 "alice sent all" test -e "$WORK/alice/sent.done"
	wait_for 40 "bob sent all" test -e "$WORK/bob/sent.done"
	accounts --wait 30 --allow-venue-dup-possdup || fail "accounting after the venue's kill -9"
	user_stop alice
	user_stop bob
	fixmux_stop
	venue_stop
}

scenario_logout-mid-flow() {
	# bob logs out in the middle of the flow (fills at once): reports for him arrive during
	# and after his logout; he logs on again later.
	venue_start
	fixmux_start
	user_start alice 300 150 A
	user_start bob 300 150 B
	wait_for 20 "bob's first 100" at_least "$WORK/bob/sent.log" . 100
	user_stop bob
	echo "bob stopped after $(count "$WORK/bob/sent.log" .)"
	wait_for 40 "alice sent all" test -e "$WORK/alice/sent.done"
	user_start bob 0 1 B2
	accounts --wait 30 || fail "accounting after $SCENARIO"
	user_stop alice
	user_stop bob
	fixmux_stop
	venue_stop
}

scenario_kill9-delivery() {
	# bob's 1500 fills wait in fixmux while he is logged out (the venue fills when told);
	# fixmux is killed with SIGKILL as soon as the first of them reaches him at his next
	# Logon, and restarted.
	VENUE_ARGS=(--hold-fills)
	venue_start
	fixmux_start
	user_start alice 1 10 A
	user_start bob 1500 1000 B
	wait_for 30 "bob sent all" test -e "$WORK/bob/sent.done"
	wait_for 20 "bob's acks" at_least "$WORK/bob/er.log" ' 0 [YN]$' 1500
	wait_for 20 "alice's ack" at_least "$WORK/alice/er.log" ' 0 [YN]$' 1
	user_stop bob
	kill -USR1 "$VENUE_PID"
	wait_for 20 "the venue's fills" at_least "$WORK/venue/venue.log" '^er .* 2$' 1501
	user_start bob 0 1 B2
	wait_for 20 "bob's first pending fill" at_least "$WORK/bob/er.log" ' 2 [YN]$' 1
	kill -KILL "$FMX_PID"
	wait "$FMX_PID" 2>/dev/null || true
	FMX_PID=
	echo "killed with $(count "$WORK/bob/er.log" ' 2 [YN]$') fills delivered"
	fixmux_start
	accounts --wait 30 || fail "accounting after $SCENARIO"
	user_stop alice
	user_stop bob
	fixmux_stop
	venue_stop
}

scenario_reset-flow() {
	# alice's TCP connection is reset while bob keeps sending orders; fixmux's Logout is held
	# back from bob for 0.5 s (the kernel's side of the TAP changes its MAC) so that his orders
	# keep arriving during the logout cycle. Each of them must reach the venue once or be
	# refused by fixmux with a reject that reaches bob (check_accounts.py knows fixmux's
	# rejects by their ExecIDs).
	VENUE_ARGS=(--fill-delay-ms 60000 --cancel-on-logout)
	venue_start
	fixmux_start
	user_start alice 5 50 A
	user_start bob 400 150 B
	wait_for 20 "alice's acknowledgements" at_least "$WORK/alice/er.log" ' 0 [YN]$' 5
	wait_for 20 "bob's 100" at_least "$WORK/bob/sent.log" . 100
	kill -STOP "${USER_PID[alice]}"
	local sport
	sport=$(in_ns ss -tnpH state established 'dport = :9878' |
		awk -v pid="pid=${USER_PID[alice]}," 'index($0, pid) { split($3, a, ":"); print a[2] }')
	[ -n "$sport" ] || fail "alice's connection not found"
	ip -n "$NS" link set fmxc0 address 02:00:c6:12:00:99
	in_ns ss -K -t state established "sport = :$sport" >/dev/null
	wait_for 10 "bob logged out by fixmux" grep -q "user bob on SIM.Orders: logged out" "$WORK/fixmux.err"
	sleep 0.5
	ip -n "$NS" link set fmxc0 address 02:00:c6:12:00:01
	kill -CONT "${USER_PID[alice]}"
	wait_for 40 "bob sent all" test -e "$WORK/bob/sent.done"
	accounts --wait 20 || fail "accounting after alice's reset with bob's orders flowing"
	echo "refused by fixmux: $(count "$WORK/bob/er.log" ' FIXMUX-REJ-[0-9]+ 8 ')"
	user_stop alice
	user_stop bob
	fixmux_stop
	venue_stop
}

scenario_venue-gaps() {
	# (1) Fills while the owners are offline: acknowledged at once, filled when told.
	VENUE_ARGS=(--hold-fills)
	venue_start
	fixmux_start
	user_start alice 20 50 A
	user_start bob 20 50 B
	wait_for 20 "alice's acknowledgements" at_least "$WORK/alice/er.log" ' 0 [YN]$' 20
	wait_for 20 "bob's acknowledgements" at_least "$WORK/bob/er.log" ' 0 [YN]$' 20
	user_stop alice
	user_stop bob
	# The last user's Logout logged fixmux out of the venue: the fills are stored by the venue.
	wait_for 20 "venue logged out" at_least "$WORK/venue/venue.log" '^logout$' 1
	kill -USR1 "$VENUE_PID"
	wait_for 20 "the venue's fills" at_least "$WORK/venue/venue.log" '^er .* 2$' 40
	[ "$(count "$WORK/alice/er.log" ' 2 [YN]$')" -eq 0 ] || fail "alice got fills while logged out"
	user_start alice 0 1 A2
	wait_for 30 "alice's fills after her Logon" at_least "$WORK/alice/er.log" ' 2 [YN]$' 20
	# bob is still offline: his fills wait in fixmux for him.
	[ "$(count "$WORK/bob/er.log" ' 2 [YN]$')" -eq 0 ] || fail "bob got fills while logged out"
	user_start bob 0 1 B2
	accounts --wait 30 || fail "accounting after the venue's gap"

	# (2) The venue loses fixmux's last three orders (and the admin messages after them): it is
	# stopped and its expected sequence number (FileStore's seqnums file, "next sender : next
	# target") set back to the MsgSeqNum of the third last NewOrderSingle it got; restarted.
	user_stop alice
	user_stop bob
	wait_for 20 "venue logged out" at_least "$WORK/venue/venue.log" '^logout$' 2
	venue_stop
	"$PY" - "$WORK"/venue/store/*.seqnums "$WORK"/venue/log/*FIXMUX.messages.current.log <<'EOF2'
import re, sys
seqs = [int(re.search("\x0134=([0-9]+)\x01", l).group(1)) for l in open(sys.argv[2])
        if "\x0135=D\x01" in l]
s, t = open(sys.argv[1]).read().split(":")
open(sys.argv[1], "w").write("%010d : %010d" % (int(s), sorted(seqs)[-3]))
EOF2
	venue_start
	user_start alice 5 50 A3
	wait_for 30 "alice's third logon" at_least "$WORK/alice/events.log" '^logon$' 3
	wait_for 30 "alice's new orders acknowledged" at_least "$WORK/alice/er.log" '^A3-.* 0 [YN]$' 5
	kill -USR1 "$VENUE_PID"
	wait_for 30 "alice's new orders filled" at_least "$WORK/alice/er.log" '^A3-.* 2 [YN]$' 5
	# What the venue asked for again arrived again, each marked PossDupFlag=Y (the venue
	# recognises the orders by ClOrdID and does not take them twice).
	local resent
	resent=$(count "$WORK/venue/venue.log" '^dup .* Y$')
	echo "venue got $resent orders again with PossDupFlag=Y"
	[ "$resent" -eq 3 ] || fail "fixmux resent $resent of the 3 orders the venue lost"
	user_start bob 0 1 B3
	wait_for 30 "bob's third logon" at_least "$WORK/bob/events.log" '^logon$' 3
	accounts --wait 20 --allow-venue-dup-possdup || fail "accounting after fixmux's gap"
	user_stop alice
	user_stop bob
	fixmux_stop
	venue_stop
}

scenario_reset() {
	# Orders stay open (filled only after a minute); the venue cancels them when its session ends.
	VENUE_ARGS=(--fill-delay-ms 60000 --cancel-on-logout)
	venue_start
	fixmux_start
	user_start alice 5 50 A
	user_start bob 5 50 B
	wait_for 20 "alice's acknowledgements" at_least "$WORK/alice/er.log" ' 0 [YN]$' 5
	wait_for 20 "bob's acknowledgements" at_least "$WORK/bob/er.log" ' 0 [YN]$' 5
	# alice stops (SIGSTOP) so that she does not reconnect at once, then her connection is reset.
	kill -STOP "${USER_PID[alice]}"
	local sport
	sport=$(in_ns ss -tnpH state established 'dport = :9878' |
		awk -v pid="pid=${USER_PID[alice]}," 'index($0, pid) { split($3, a, ":"); print a[2] }')
	[ -n "$sport" ] || fail "alice's connection not found"
	in_ns ss -K -t state established "sport = :$sport" >/dev/null
	wait_for 20 "bob logged out" grep -q '^logout ' "$WORK/bob/events.log"
	echo "bob's Logout: $(grep '^logout ' "$WORK/bob/events.log" | head -n 1)"
	grep '^logout ' "$WORK/bob/events.log" | head -n 1 | grep -q 'alice' ||
		fail "bob's Logout does not name alice's failure"
	# The venue cancels in its logout cycle; fixmux passes bob's cancels on before his Logout.
	[ "$(sed -n '/^logout /q;p' "$WORK/bob/events.log" | grep -c '^er B-.* 4$')" -eq 5 ] ||
		fail "bob's 5 cancels did not all reach him before his Logout"
	# alice's cancels wait in fixmux for her next Logon (after SIGCONT she reconnects by herself).
	[ "$(count "$WORK/alice/er.log" ' 4 [YN]$')" -eq 0 ] || fail "alice got cancels while stopped"
	kill -CONT "${USER_PID[alice]}"
	wait_for 30 "the venue's cancels of alice's orders reached alice" \
		at_least "$WORK/alice/er.log" '^A-.* 4 [YN]$' 5
	[ "$(sed -n '/^logon$/,$p' "$WORK/alice/events.log" | sed -n '2,$p' |
		sed -n '/^logon$/,$p' | grep -c '^er A-.* 4$')" -eq 5 ] ||
		fail "alice's cancels did not arrive after her second Logon"
	accounts --wait 20 || fail "accounting after alice's reset"
	user_stop alice
	user_stop bob
	fixmux_stop
	venue_stop
}

case "$SCENARIO" in
kill9 | kill9-pending | kill9-delivery | kill9-venue | logout-mid-flow | venue-gaps | reset | reset-flow)
	"scenario_$SCENARIO"
	;;
*) fail "unknown scenario $SCENARIO" ;;
esac
echo "PASS: QuickFIX peers, $SCENARIO"
