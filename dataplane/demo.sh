#!/usr/bin/env bash
# The fixmux demo, the README's main command. On a fresh Debian 12 machine, as root:
#   installs what is missing, builds, reserves hugepages, creates a private network namespace
#   with two DPDK TAP ports, starts the venue simulator (exchange mode) and fixmux, then five
#   sample users (two traders, a price subscriber, an RFQ taker and a drop copy), shows live
#   statistics until Ctrl-C or --duration, logs everyone out, prints a summary and removes the
#   namespace. Runs the same when run twice in a row (each run cleans up its predecessor's
#   leftovers and starts from fresh journals).
#
#   bash dataplane/demo.sh [--duration SECONDS] [--order-rate N] [--keep]
#
#   namespace fixmux-demo-<pid>:
#     users (kernel TCP) 198.18.0.1  --fmxdc0-->  fixmux 198.18.0.2:9878 (net_tap0)
#     fixmux 198.18.1.2 (net_tap1)   --fmxdv0-->  fixmux-venue-sim 198.18.1.1:9880
# Exit status: 0 when every user logged on, traded and logged out cleanly and fixmux and the
# venue simulator exited 0; 1 otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/dataplane/fmx_ns.sh"
DURATION=0
ORDER_RATE=20
KEEP=
while [ $# -gt 0 ]; do
	case "$1" in
	--duration) DURATION=$2; shift 2 ;;
	--order-rate) ORDER_RATE=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
	*) echo "demo.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
case "$DURATION" in ''|*[!0-9]*) echo "demo.sh: --duration wants whole seconds" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (namespaces, TAP devices, hugepages)" >&2; exit 1; }

bash "$here/tests/deps.sh"
if [ -n "${FIXMUX_DEMO_PREBUILT:-}" ]; then
	build=$FIXMUX_DEMO_PREBUILT # the test suite runs the demo on the binaries it built
else
	build="${FIXMUX_DEMO_BUILD:-$here/build-demo}"
	echo "demo: building into $build"
	cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFIXMUX_TESTS=OFF \
		-DFIXMUX_BENCH=OFF >/dev/null
	cmake --build "$build" -j"$(nproc)" --target fixmux fixmux-venue-sim fixmux-passwd \
		fixmuxctl >/dev/null
fi
FIXMUX=$build/dataplane/fixmux
VSIM=$build/control/fixmux-venue-sim
PASSWD=$build/control/fixmux-passwd
CTL=$build/control/fixmuxctl

# Names of this run's own: a second demo (or the test suite's) running at the same time on
# the machine must not trip over this one.
NS=fixmux-demo-$$
WORK=/tmp/fixmux-demo-$$
FMX_PID= VSIM_PID= USERS_PID=
cleanup() {
	local rc=$?
	set +e
	for pid in $USERS_PID $FMX_PID $VSIM_PID; do kill -KILL "$pid" 2>/dev/null; done
	ns_destroy
	if [ -n "$KEEP" ]; then echo "demo: logs, journals and statistics kept in $WORK"; else rm -rf "$WORK"; fi
	exit $rc
}
trap cleanup EXIT
trap 'STOP=1' INT TERM
STOP=

# A previous run that was killed (kill -9: no trap ran) may have left its namespace behind:
# remove the namespaces of demo runs whose shell is gone.
for old in $(ip netns list 2>/dev/null | awk '/^fixmux-demo-[0-9]+/ {print $1}'); do
	kill -0 "${old##*-}" 2>/dev/null && continue
	for pid in $(ip netns pids "$old" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
	ip netns del "$old" 2>/dev/null || true
	rm -rf "/tmp/$old"
done
rm -rf "$WORK"
mkdir -p "$WORK"
ns_create

echo "demo-secret" >"$WORK/pw"
HASH=$("$PASSWD" <"$WORK/pw")
cat >"$WORK/fixmux.ini" <<EOF
; The demo appliance: one CLOB venue with three session types and one Taker bank for RFQs.
[appliance]
client_port = net_tap0
venue_port = net_tap1
client_address = 198.18.0.2/24
venue_address = 198.18.1.2/24
listen_port = 9878
store_dir = $WORK/store
fsync = batch
idle = backoff

[venue LMAX]
type = CLOB

[session LMAX.Orders]
address = 198.18.1.1:9880
sender_comp_id = FMX-ORD
target_comp_id = LMAX
rate_limit = 1000
filter = deny fat_finger 38 ^[0-9]{10,}

[session LMAX.Pricing]
address = 198.18.1.1:9880
sender_comp_id = FMX-MD
target_comp_id = LMAX

[session LMAX.DropCopy]
address = 198.18.1.1:9880
sender_comp_id = FMX-DC
target_comp_id = LMAX

[venue BANK]
type = Taker

[session BANK.RFS]
address = 198.18.1.1:9880
sender_comp_id = FMX-RFS
target_comp_id = BANK

[user trader1]
password_hash = $HASH
sessions = LMAX.Orders

[user trader2]
password_hash = $HASH
sessions = LMAX.Orders

[user prices1]
password_hash = $HASH
sessions = LMAX.Pricing

[user rfq1]
password_hash = $HASH
sessions = BANK.RFS

[user dropcopy1]
password_hash = $HASH
sessions = LMAX.DropCopy
EOF

# fixmux first: its TAP devices are born inside the namespace.
echo "demo: starting fixmux (ports net_tap0/net_tap1)"
# Hugepages as on a real appliance; a machine where they could not be reserved still runs the
# demo, on ordinary pages (said on screen).
free_huge_mb=$(awk '/HugePages_Free/ {f=$2} /Hugepagesize/ {s=$2} END {print int(f * s / 1024)}' /proc/meminfo)
if [ "$free_huge_mb" -ge 256 ]; then
	MEM=(--huge-unlink -m 256)
else
	echo "demo: only ${free_huge_mb} MB of hugepages free: fixmux runs on 4 KiB pages"
	MEM=(--no-huge --no-shconf -m 256)
fi
ip netns exec "$NS" "$FIXMUX" -l 0 --file-prefix="fixmux-demo-$$" "${MEM[@]}" --no-pci \
	--vdev=net_tap0,iface=fmxdc0 --vdev=net_tap1,iface=fmxdv0 -- \
	--config "$WORK/fixmux.ini" --stats-file "$WORK/fixmux.json" \
	>"$WORK/fixmux.out" 2>"$WORK/fixmux.err" &
FMX_PID=$!
wait_listening "$FMX_PID" "$WORK/fixmux.out" || {
	cat "$WORK/fixmux.err" >&2
	echo "demo: fixmux did not start" >&2
	exit 1
}
configure_tap fmxdc0 02:00:c6:12:00:01 198.18.0.1/24
configure_tap fmxdv0 02:00:c6:12:01:01 198.18.1.1/24

echo "demo: starting the venue simulator (exchange mode) on 198.18.1.1:9880"
ip netns exec "$NS" "$VSIM" --listen 198.18.1.1:9880 --mode exchange --store "$WORK/venue" \
	--session FIX.4.4:LMAX:FMX-ORD --session FIX.4.4:LMAX:FMX-MD \
	--session FIX.4.4:LMAX:FMX-DC:dropcopy --session FIX.4.4:BANK:FMX-RFS \
	--fill-ratio 0.7 --md-interval-ms 200 --stats-file "$WORK/venue.json" \
	--stats-interval-ms 500 --port-file "$WORK/venue.port" --quiet >"$WORK/venue.log" 2>&1 &
VSIM_PID=$!
for _ in $(seq 200); do [ -s "$WORK/venue.port" ] && break; sleep 0.05; done
[ -s "$WORK/venue.port" ] || { echo "demo: venue simulator did not start" >&2; exit 1; }

echo "demo: starting 5 users (trader1, trader2, prices1, rfq1, dropcopy1)"
ip netns exec "$NS" /usr/bin/python3 "$here/dataplane/demo/demo_users.py" \
	--host 198.18.0.2 --port 9878 --password-file "$WORK/pw" --order-rate "$ORDER_RATE" \
	--summary "$WORK/users.json" >"$WORK/users.log" 2>&1 &
USERS_PID=$!

show() {
	local t=$1
	read -r up online toven touser pend refused rl fd <<<"$(json "$WORK/fixmux.json" \
		venue_sessions_up users_online forwarded_to_venue forwarded_to_user pending_stored \
		logons_refused rate_limited filter_denied)"
	local rate_v=$(( (toven - ${last_v:-0}) )) rate_u=$(( (touser - ${last_u:-0}) ))
	last_v=$toven last_u=$touser
	printf '%4ss | venue sessions up %s/4 | users online %s | user->venue %6s (%4s/s) | venue->user %7s (%4s/s) | kept for offline %s | refused %s | rate-limited %s | filtered %s\n' \
		"$t" "$up" "$online" "$toven" "$rate_v" "$touser" "$rate_u" "$pend" "$refused" "$rl" "$fd"
	# fixmux's internal latency, from its telemetry (fixmuxctl latency): RX burst to TCP send.
	"$CTL" --file-prefix "fixmux-demo-$$" --json latency 2>/dev/null | /usr/bin/python3 -c '
import json, sys
def find(o):
    if isinstance(o, dict):
        if "direction" in o:
            return o
        for v in o.values():
            r = find(v)
            if r:
                return r
    return None
try:
    d = find(json.load(sys.stdin))
except Exception:
    d = None
if d:
    parts = []
    for i, name in enumerate(d["direction"]):
        us = lambda k: d[k][i] / 1000.0
        parts.append("%s p50 %.1f us p99 %.1f us p99.9 %.1f us (%d msgs)" % (
            name.replace("_", "->"), us("p50_ns"), us("p99_ns"), us("p99_9_ns"), d["count"][i]))
    print("      | internal latency: " + " | ".join(parts))
' || true
}

echo "demo: live statistics (Ctrl-C to stop${DURATION:+, or after ${DURATION}s when not 0})"
start=$(date +%s)
while [ -z "$STOP" ]; do
	sleep 1
	now=$(( $(date +%s) - start ))
	show "$now"
	kill -0 "$FMX_PID" 2>/dev/null || { echo "demo: fixmux exited unexpectedly" >&2; tail "$WORK/fixmux.err" >&2; exit 1; }
	[ "$DURATION" -gt 0 ] && [ "$now" -ge "$DURATION" ] && break
done

echo "demo: logging the users out"
kill -TERM "$USERS_PID" 2>/dev/null || true
users_rc=0
wait "$USERS_PID" || users_rc=$?
USERS_PID=
echo "demo: stopping fixmux (SIGTERM: venue sessions logged out, journals flushed)"
kill -TERM "$FMX_PID"
fmx_rc=0
wait "$FMX_PID" || fmx_rc=$?
FMX_PID=
kill -TERM "$VSIM_PID"
vsim_rc=0
wait "$VSIM_PID" || vsim_rc=$?
VSIM_PID=

echo
echo "=== summary ==="
set +e
/usr/bin/python3 - "$WORK/users.json" "$WORK/fixmux.json" "$WORK/venue.json" <<'PY'
import json, sys
users = json.load(open(sys.argv[1]))
fmx = json.load(open(sys.argv[2]))
venue = json.load(open(sys.argv[3]))
for name in sorted(users):
    u = users[name]
    keys = ["orders_sent", "acks", "partial_fills", "fills", "cancels", "rejects",
            "price_updates", "rfqs_sent", "quotes", "copies"]
    parts = ["%s %d" % (k.replace("_", " "), u[k]) for k in keys if u.get(k)]
    state = "ok" if u.get("logged_on") and u.get("logged_out") and not u["errors"] else "PROBLEM"
    print("%-10s %-7s %s" % (name, state, ", ".join(parts)))
    for e in u["errors"][:5]:
        print("           error: " + e)
print("fixmux: venue logons %d, user->venue %d, venue->user %d, refused logons %d, "
      "unroutable dropped %d, journal errors %d" % (
          fmx.get("venue_logons", 0), fmx.get("forwarded_to_venue", 0),
          fmx.get("forwarded_to_user", 0), fmx.get("logons_refused", 0),
          fmx.get("unroutable_dropped", 0), fmx.get("journal_errors", 0)))
print("venue simulator: " + ", ".join("%s %s" % (k, v) for k, v in sorted(venue.items())
                                      if isinstance(v, int) and v))
# What a user of the demo must have seen happen.
need = [("trader1", "acks"), ("trader1", "fills"), ("trader2", "acks"), ("trader2", "fills"),
        ("prices1", "price_updates"), ("rfq1", "quotes"), ("dropcopy1", "copies")]
missing = ["%s %s" % (u, k) for u, k in need if not users.get(u, {}).get(k)]
bad = missing or fmx.get("journal_errors", 0) or fmx.get("logons_refused", 0)
if missing:
    print("missing: " + ", ".join(missing))
sys.exit(1 if bad else 0)
PY
summary_rc=$?
ok=1
[ "$summary_rc" -eq 0 ] || { echo "demo: the summary shows a problem"; ok=0; }
[ "$users_rc" -eq 0 ] || { echo "demo: a user reported a problem (see above, and $WORK/users.log)"; ok=0; }
[ "$fmx_rc" -eq 0 ] || { echo "demo: fixmux exited with $fmx_rc"; ok=0; }
[ "$vsim_rc" -eq 0 ] || { echo "demo: the venue simulator exited with $vsim_rc"; ok=0; }
if [ $ok -eq 1 ]; then
	echo "demo: everyone logged on, traded and logged out; namespace $NS removed"
	exit 0
fi
exit 1
