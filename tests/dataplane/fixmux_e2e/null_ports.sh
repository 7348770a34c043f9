#!/usr/bin/env bash
# fixmux on two net_null ports (no traffic, no namespace): --duration ends it like SIGTERM
# (exit 0, a summary line a second, the stats file with every counter), so does SIGINT, and a
# port the EAL does
# not have is refused at start-up with exit 1 and a message naming the key.
#   null_ports.sh FIXMUX PASSWD
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../../dataplane/fmx_ns.sh"
FIXMUX=$1
PASSWD=$2
WORK=$(mktemp -d /tmp/fixmux-null.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

[ "$(id -u)" -eq 0 ] || skip "needs root (EAL)"
HASH=$(echo "secret" | "$PASSWD")
ini() {
	min_ini "$1" net_null1 "$WORK/store" "$HASH"
}
EAL=(--no-huge --no-shconf --no-pci --no-telemetry -l 0 -m 256 --file-prefix="fixmux_null_$$"
	--vdev=net_null0 --vdev=net_null1)

ini net_null0 >"$WORK/ok.ini"
rc=0
"$FIXMUX" "${EAL[@]}" -- --config "$WORK/ok.ini" --duration 1 --stats-file "$WORK/stats.json" \
	>"$WORK/out" 2>"$WORK/err" || rc=$?
[ "$rc" -eq 0 ] || fail "--duration 1: exit $rc: $(tail -5 "$WORK/err")"
grep -q "listening on 198.18.0.2:9878 (client port net_null0)" "$WORK/out" ||
	fail "no start-up line: $(cat "$WORK/out")"
grep -q "sessions up 0/1, users online 0" "$WORK/out" || fail "no summary line: $(cat "$WORK/out")"
grep -q "shutting down" "$WORK/err" || fail "no shutdown line: $(cat "$WORK/err")"
/usr/bin/python3 - "$WORK/stats.json" <<'EOF2' || fail "stats file"
import json, sys
s = json.load(open(sys.argv[1]))
want = ["client_msgs_in", "forwarded_to_venue", "venue_msgs_in", "forwarded_to_user",
        "id_conflicts", "logons_refused", "venue_logons", "tcp_accepted", "client_rx_pkts",
        "venue_tx_pkts", "venue_sessions_up", "users_online", "shutdown_timed_out", "stats_seq"]
missing = [k for k in want if k not in s]
assert not missing, "missing keys: %s" % missing
assert s["venue_logons"] == 0 and s["shutdown_timed_out"] is False and s["stats_seq"] >= 1, s
EOF2
echo "ok: --duration 1: exit 0, summary line, stats file"

# SIGINT ends it like SIGTERM (the namespace test covers SIGTERM with users online)
"$FIXMUX" "${EAL[@]}" -- --config "$WORK/ok.ini" >"$WORK/out" 2>"$WORK/err" &
pid=$!
for _ in $(seq 200); do
	grep -q "listening on" "$WORK/out" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || fail "fixmux died at start-up: $(tail -5 "$WORK/err")"
	sleep 0.05
done
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || fail "SIGINT: exit $rc"
grep -q "shutting down" "$WORK/err" || fail "SIGINT: no shutdown line"
echo "ok: SIGINT: exit 0"

ini net_null7 >"$WORK/bad.ini"
rc=0
"$FIXMUX" "${EAL[@]}" -- --config "$WORK/bad.ini" >"$WORK/out" 2>"$WORK/err" || rc=$?
[ "$rc" -eq 1 ] || fail "unknown port: exit $rc, wanted 1"
grep -q "\[appliance\] client_port 'net_null7'" "$WORK/err" ||
	fail "unknown port: message: $(grep -v '^EAL' "$WORK/err")"
echo "ok: unknown port: exit 1, $(grep "client_port" "$WORK/err")"
# the lcore layout: with -l 0,1 it is applied (and said), except what cannot be: the
# multiplexer elsewhere than on the main lcore; with -l 0 the default layout is only reported
EAL2=(--no-huge --no-shconf --no-pci --no-telemetry -l 0,1 -m 256 --file-prefix="fixmux_null_$$"
	--vdev=net_null0 --vdev=net_null1)
ini net_null0 | sed 's/^listen_port = 9878/listen_port = 9878\ncores = client:1,venue:1,control:1/' \
	>"$WORK/ctl1.ini"
rc=0
"$FIXMUX" "${EAL2[@]}" -- --config "$WORK/ctl1.ini" >"$WORK/out" 2>"$WORK/err" || rc=$?
[ "$rc" -eq 1 ] || fail "control on lcore 1: exit $rc, wanted 1"
grep -q "\[appliance\] cores: control:1, but the control role runs on the main lcore" \
	"$WORK/err" || fail "control on lcore 1: message: $(grep -v '^EAL' "$WORK/err")"
echo "ok: control off the main lcore: exit 1"
ini net_null0 | sed 's/^listen_port = 9878/listen_port = 9878\ncores = client:0,venue:1,control:0/' \
	>"$WORK/lc.ini"
rc=0
"$FIXMUX" "${EAL2[@]}" -- --config "$WORK/lc.ini" --duration 1 >"$WORK/out" 2>"$WORK/err" || rc=$?
[ "$rc" -eq 0 ] || fail "two lcores: exit $rc: $(tail -5 "$WORK/err")"
grep -q "client side on lcore 0, venue side on lcore 1, control on lcore 0" "$WORK/out" ||
	fail "two lcores: start-up line: $(head -n1 "$WORK/out")"
echo "ok: two lcores: the venue side on lcore 1, exit 0 after --duration"
grep -q "every role on lcore 0 (an lcore of the layout is not enabled by the EAL)" \
	<("$FIXMUX" "${EAL[@]}" -- --config "$WORK/ok.ini" --duration 1 2>/dev/null) ||
	fail "-l 0 with the default layout: not reported"
echo "ok: -l 0 with the default layout: every role on lcore 0, said so"
echo "PASS: fixmux on net_null ports"
