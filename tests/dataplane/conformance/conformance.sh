#!/usr/bin/env bash
# The QuickFIX acceptance scenarios over the wire against fixmux (issue 5 §4, docs/conformance.md).
#
#   conformance.sh start WORK NS FIXMUX VENUE_SIM   (ctest fixture setup)
#   conformance.sh run   WORK NS DRIVER VERSION SCENARIO
#   conformance.sh stop  WORK NS                    (ctest fixture cleanup)
#
# start: a private network namespace NS with fixmux on two net_tap ports
#   client side: fmxc0  kernel 198.18.0.1/24  <->  fixmux 198.18.0.2 (net_tap0), port 9878
#   venue side:  fmxv0  kernel 198.18.1.1/24  <->  fixmux 198.18.1.2 (net_tap1)
#   and fixmux-venue-sim in echo mode on 198.18.1.1:9880, one reset-at-Logon session per
#   conformance user (fixmux.ini.in). Both run detached until stop; their logs are in WORK.
# run: one scenario file, by the venue simulator's acceptance runner (DRIVER, built from
#   tests/control/venue_sim/test_acceptance_wire.c) started inside NS with
#   FIXMUX_ACCEPTANCE_PEER=198.18.0.2:9878, so that the scenario talks to fixmux's client side.
# stop: kills both, removes NS and (unless FIXMUX_CONFORMANCE_KEEP=1) WORK.
# Exit 0 pass, 1 fail, 77 skip (not root, no TAP device).
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../../dataplane/fmx_ns.sh"

CMD=${1:-}
WORK=${2:-}
NS=${3:-}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLIENT_PEER=198.18.0.2:9878

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, TAP devices)"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	command -v ip >/dev/null || skip "no iproute2"
}

alive() {
	[ -s "$WORK/$1.pid" ] && kill -0 "$(cat "$WORK/$1.pid")" 2>/dev/null
}

stop() {
	local p
	for p in fixmux vsim; do
		if alive "$p"; then
			kill -KILL "$(cat "$WORK/$p.pid")" 2>/dev/null
		fi
		rm -f "$WORK/$p.pid"
	done
	if [ -n "$NS" ] && ip netns list 2>/dev/null | grep -qw "^$NS"; then
		ns_destroy
	fi
}

# json KEY: one value of fixmux's stats file (a flat JSON object); replaces fmx_ns.sh's
# python-based json FILE KEY...
# (sed, not a JSON parser: it runs a few times per scenario, and the file is fixmux's own
# one-key-per-line output; fixmux renames a complete file into place, so it is never partial)
json() {
	local v
	v=$(sed -n "s/^  \"$1\": \([0-9a-z]*\),\{0,1\}\$/\1/p" "$WORK/stats.json" 2>/dev/null)
	[ -n "$v" ] && echo "$v"
}

# fresh_stats N: waits until fixmux has rewritten its stats file N more times (every 200 ms),
# so that what it holds was counted after this point.
fresh_stats() {
	local seq0 seq
	seq0=$(json stats_seq) || seq0=0
	for _ in $(seq 100); do
		seq=$(json stats_seq) || seq=0
		[ "${seq:-0}" -ge $((seq0 + $1)) ] && return 0
		sleep 0.05
	done
	return 1
}

# fixmux_up FIXMUX: starts fixmux in NS with an empty store and configures the kernel side of
# its TAP devices (they are born with the process).
fixmux_up() {
	local fixmux=$1
	echo "$fixmux" >"$WORK/fixmux.bin"
	rm -rf "$WORK/store" "$WORK/stats.json"
	mkdir -p "$WORK/store"
	# Detached (setsid, every descriptor redirected) so that ctest does not wait for it at
	# the end of the setup test; stop kills it by the recorded pid.
	setsid ip netns exec "$NS" "$fixmux" --no-huge --no-shconf --no-pci --no-telemetry -l 0 \
		-m 256 --file-prefix="$NS" --vdev=net_tap0,iface=fmxc0 --vdev=net_tap1,iface=fmxv0 \
		-- --config "$WORK/fixmux.ini" --stats-file "$WORK/stats.json" \
		</dev/null >>"$WORK/fixmux.out" 2>>"$WORK/fixmux.err" &
	echo $! >"$WORK/fixmux.pid"
	for _ in $(seq 200); do
		[ -s "$WORK/stats.json" ] && break
		alive fixmux || { fmx_logs; stop; fail "fixmux died at start-up"; }
		sleep 0.05
	done
	[ -s "$WORK/stats.json" ] || { fmx_logs; stop; fail "fixmux not up after 10 s"; }

	configure_tap fmxc0 02:00:c6:12:00:01 198.18.0.1/24
	configure_tap fmxv0 02:00:c6:12:01:01 198.18.1.1/24
}

# fixmux_restart: a clean fixmux (empty store) in the same namespace, the simulator kept.
fixmux_restart() {
	local pid
	pid=$(cat "$WORK/fixmux.pid")
	kill -KILL "$pid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	fixmux_up "$(cat "$WORK/fixmux.bin")"
}

start() {
	local fixmux=$1 vsim=$2
	need_root
	for b in "$fixmux" "$vsim"; do [ -x "$b" ] || fail "not built: $b"; done
	# A run that was interrupted (ctest killed) may have left its namespace behind.
	stop
	rm -rf "$WORK"
	mkdir -p "$WORK/vsim" || fail "cannot create $WORK"
	sed "s|@STORE@|$WORK/store|" "$HERE/fixmux.ini.in" >"$WORK/fixmux.ini"

	ns_create || fail "cannot create namespace $NS"
	fixmux_up "$fixmux"

	setsid ip netns exec "$NS" "$vsim" --listen 198.18.1.1:9880 --mode echo --heartbeat-check \
		--store "$WORK/vsim" --port-file "$WORK/vsim.port" --stats-file "$WORK/vsim.json" \
		--session FIX.4.2:V42:F42:reset --session FIX.4.4:V44:F44:reset \
		--session FIXT.1.1:V50:F50:reset --session FIX.4.4:VTW:FTW:reset \
		</dev/null >"$WORK/vsim.log" 2>&1 &
	echo $! >"$WORK/vsim.pid"
	for _ in $(seq 200); do
		[ -s "$WORK/vsim.port" ] && break
		alive vsim || { fmx_logs; stop; fail "venue simulator died at start-up"; }
		sleep 0.05
	done
	[ -s "$WORK/vsim.port" ] || { fmx_logs; stop; fail "venue simulator not listening after 10 s"; }
	echo "fixmux and the echo venue are up in namespace $NS (work directory $WORK)"
}

# held: venue messages fixmux holds for offline users (stored, not yet delivered)
held() {
	echo $(($(json pending_stored) - $(json pending_delivered)))
}

run() {
	local driver=$1 ver=$2 name=$3
	need_root
	[ -x "$driver" ] || fail "not built: $driver"
	alive fixmux || { fmx_logs; fail "fixmux is not running (fixture conformance/setup failed?)"; }
	alive vsim || { fmx_logs; fail "the venue simulator is not running"; }
	# Every scenario waits for the answers it expects before it ends, so fixmux must hold
	# nothing for an offline user: what it holds would reach the next scenario of that user
	# at its Logon. An earlier scenario left something (and failed for it): start clean.
	# (The previous scenario's check waited for fresh counts; no need to wait here.)
	local stored0
	stored0=$(json pending_stored) || fail "no stats from fixmux"
	if [ "$(held)" -ne 0 ]; then
		echo "fixmux holds $(held) message(s) from an earlier scenario: restarting it clean"
		fixmux_restart
		fresh_stats 1 || fail "fixmux does not rewrite its stats file"
		stored0=$(json pending_stored)
	fi
	local out rc=0
	out=$(ip netns exec "$NS" env FIXMUX_ACCEPTANCE_PEER=$CLIENT_PEER "$driver" \
		--filter "$ver/$name" 2>&1) || rc=$?
	echo "$out"
	[ $rc -eq 0 ] || { fmx_logs; fail "$ver/$name"; }
	# A filter that matched nothing passes too: insist that the scenario ran and passed.
	echo "$out" | grep -q "Tested: 1 | Passing: 1 " || fail "$ver/$name did not run"
	alive fixmux || { fmx_logs; fail "fixmux died during $ver/$name"; }
	# Two rewrites (>= 200 ms): an answer still on its way when the scenario ended is counted.
	fresh_stats 2 || fail "fixmux does not rewrite its stats file"
	local extra=$(($(json pending_stored) - stored0))
	[ "$extra" -eq 0 ] || { fmx_logs; fail "$ver/$name: after the scenario ended, fixmux stored \
$extra venue message(s) for the offline user (a message the scenario did not expect reached \
the venue; docs/conformance.md)"; }
}

case "$CMD" in
start) start "${4:?FIXMUX}" "${5:?VENUE_SIM}" ;;
run) run "${4:?DRIVER}" "${5:?VERSION}" "${6:?SCENARIO}" ;;
stop)
	need_root
	# fixmux's last once-a-second summary line, for the record of the run
	tail -n 1 "$WORK/fixmux.out" 2>/dev/null
	stop
	if [ -n "${FIXMUX_CONFORMANCE_KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
	;;
*)
	echo "usage: conformance.sh start|run|stop WORK NS ..." >&2
	exit 2
	;;
esac
