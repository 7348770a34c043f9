#!/usr/bin/env bash
# fixmux-bench driver: the end-to-end latency run of docs/benchmarks.md ("## fixmux-bench").
#
#   bash bench/harness/run.sh [--bin-dir BUILD] [--scenario orders|md|mix] [--users N]
#        [--rate R] [--md-rate R] [--md-subs S] [--md-symbols K] [--threads T] [--duration S]
#        [--warmup S] [--idle backoff|spin|sleep] [--out DIR] [--plots] [--no-direct]
#        [--qf-relay] [--userspace] [--json] [--smoke] [--steps "U:R ..."] [--search]
#        [-- extra fixmux-bench options]
#
# As root: creates the network namespace fmx-bench-<pid> (removed on any exit), starts fixmux
# on two net_tap ports and the venue simulator behind it, then runs fixmux-bench inside the
# namespace on kernel sockets, first through fixmux, then straight to the simulator:
#
#   harness 198.18.0.1 --fmxbc0--> fixmux 198.18.0.2:9878 (net_tap0)
#   fixmux 198.18.1.2 (net_tap1) --fmxbv0--> fixmux-venue-sim 198.18.1.1:9880 (exchange mode,
#   --fill-ratio 1: every order is acknowledged and filled at once; --md-rate R: every
#   market-data subscription gets R increments/s, each stamped with its intended send time)
#   harness 198.18.1.1 --------------------> fixmux-venue-sim 198.18.1.1:9880 (the baseline)
#
# --scenario: orders (NewOrderSingle -> ExecutionReport, the default), md (every user holds
# --md-subs subscriptions spread over --md-symbols symbols, so several users receive each
# symbol; latency from the venue's stamp to the arrival), mix (both at once, reported apart).
# --threads T: the harness's users are dealt out to T threads, each with its own histograms,
# merged at the end (per-thread counts in --json).
#
# fixmux runs with telemetry (file prefix fmx_bench_<pid>): fixmux-bench reads fixmux's own
# latency (`fixmuxctl --json latency`, client RX -> venue TX and venue RX -> client TX) before
# and after the fixmux phase and prints it beside the external figures.
#
# fixmux's configuration has N users u001..uN (password hashed by fixmux-passwd), all on the
# session SIM.Orders; the simulator has fixmux's session and min(N, 62) sessions
# SIMVENUE<-uNNN for the baseline (it holds 64 sessions; the baseline carries the same total
# traffic over fewer sessions when N > 62). Results go to --out (default /tmp/fixmux-bench): the
# harness's text or JSON output, PHASE.hgrm / PHASE.csv / PHASE-timeline.csv (PHASE-md.* for
# market data), fixmux's and the simulator's statistics, and with --plots
# latency-by-percentile.png and latency-over-time.png (md-latency-by-percentile.png).
#
# --userspace: the fixmux phase's users run on fixmux's own TCP/IP stack in the harness
# (fixmux-bench-dp, one thread, DPDK --no-huge), connected to fixmux's client port through
# net_memif (fixmux: net_memif0 role=server, socket OUT/memif.sock) instead of a TAP: no kernel
# on the users' side of fixmux (the venue side stays net_tap + the kernel simulator). The
# harness's stack spins (--dp-idle, after --, to change). The other phases stay on kernel
# sockets.
#
# --qf-relay: a third phase through fixmux-qf-relay (QuickFIX C++: an acceptor for the users on
# 198.18.0.1:9881 and an initiator to the simulator as QFRELAY), between fixmux and direct. It
# runs on the kernel's TCP inside the namespace (loopback, no TAP), like the direct baseline.
# It forwards orders only (not with --scenario md or mix).
#
# --steps "U:R U:R ...": instead of the single run, one fixmux-only run per step (U users, R
# orders/s in total) on the same appliance, then a table of the steps; the user-count sweep is
# --steps "1:10000 100:10000". --search: the stepped search for the highest offered rate whose
# p99 stays under 100 us (10 users; 500, 1000, 2000, 5000, 10000, 20000 orders/s; it stops at
# the first step that misses or fails).
#
# --smoke (the ctests bench/harness_smoke, _md, _mix, _userspace): 4 users on 2 threads, 200 orders/s and/or
# 100 increments/s per subscription, 3 s per phase (the QuickFIX relay's phase too for orders
# when fixmux-qf-relay is built); checks that every order got its ExecutionReport, every
# subscription its increments, that the per-thread counts add up, that fixmux's internal
# counts match the traffic and that the histogram files are consistent. Never checks a
# timing. Exit 0 pass, 1 fail, 77 skip (not root, no /dev/net/tun).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../dataplane/fmx_ns.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=$ROOT/build
USERS=10 RATE=1000 DURATION=10 WARMUP=1 IDLE=backoff OUT=/tmp/fixmux-bench
SCENARIO=orders MD_RATE=100 MD_SUBS=1 MD_SYMBOLS=4 THREADS=1
PLOTS= DIRECT=1 JSON= SMOKE= STEPS= SEARCH= QF= USERSPACE=
EXTRA=()
while [ $# -gt 0 ]; do
	case "$1" in
	--bin-dir) BIN=$2; shift 2 ;;
	--users) USERS=$2; shift 2 ;;
	--scenario) SCENARIO=$2; shift 2 ;;
	--md-rate) MD_RATE=$2; shift 2 ;;
	--md-subs) MD_SUBS=$2; shift 2 ;;
	--md-symbols) MD_SYMBOLS=$2; shift 2 ;;
	--threads) THREADS=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	--duration) DURATION=$2; shift 2 ;;
	--warmup) WARMUP=$2; shift 2 ;;
	--idle) IDLE=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--plots) PLOTS=1; shift ;;
	--no-direct) DIRECT=; shift ;;
	--json) JSON=1; shift ;;
	--qf-relay) QF=1; shift ;;
	--userspace) USERSPACE=1; shift ;;
	--smoke) SMOKE=1; shift ;;
	--steps) STEPS=$2; shift 2 ;;
	--search) SEARCH=1; STEPS="10:500 10:1000 10:2000 10:5000 10:10000 10:20000"; shift ;;
	--) shift; EXTRA=("$@"); break ;;
	-h|--help) sed -n '2,61p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
if [ -n "$SMOKE" ]; then
	USERS=4 RATE=200 DURATION=3 WARMUP=0.5 THREADS=2 MD_RATE=100 MD_SUBS=1 MD_SYMBOLS=2
	# the user-space stack belongs to one thread
	OUT=$(mktemp -d /tmp/fixmux-bench-smoke.XXXXXX)
	# The QuickFIX relay is checked too when it was built (it needs libquickfix-dev); it
	# forwards orders only.
	[ -x "$BIN/bench/harness/fixmux-qf-relay" ] && [ "$SCENARIO" = orders ] && QF=1
fi
FIXMUX=$BIN/dataplane/fixmux
VSIM=$BIN/control/fixmux-venue-sim
PASSWD=$BIN/control/fixmux-passwd
CTL=$BIN/control/fixmuxctl
BENCH=$BIN/bench/harness/fixmux-bench
CLIENT_DEV=net_tap0
[ -n "$USERSPACE" ] && BENCH=$BIN/bench/harness/fixmux-bench-dp CLIENT_DEV=net_memif0
QFRELAY=$BIN/bench/harness/fixmux-qf-relay
QFDICT=${FIXMUX_QUICKFIX_REF:-/work/shared/reference/quickfix}/spec/FIX44.xml
NS=fmx-bench-$$
FMX_PID= VSIM_PID= QF_PID=


cleanup() {
	local rc=$?
	set +e
	[ -n "$FMX_PID" ] && kill -TERM "$FMX_PID" 2>/dev/null && sleep 0.5
	kill_wait "$FMX_PID" "$VSIM_PID" "$QF_PID"
	ns_destroy
	# DPDK's runtime directories of this run (fixmux's, and the harness's with --userspace).
	rm -rf "/var/run/dpdk/fmx_bench_$$" "/var/run/dpdk/fmx_bench_h_$$"
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		echo "--- fixmux stderr"; tail -n 20 "$OUT/fixmux.err" 2>/dev/null
		echo "--- venue simulator"; tail -n 20 "$OUT/vsim.log" 2>/dev/null
	fi
	[ -n "$SMOKE" ] && [ $rc -eq 0 ] && rm -rf "$OUT"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ns_require "$FIXMUX" "$VSIM" "$PASSWD" "$BENCH"
case "$USERS" in ''|*[!0-9]*) fail "--users wants a whole number" ;; esac
case "$SCENARIO" in orders|md|mix) ;; *) fail "--scenario: orders, md or mix" ;; esac
[ -n "$QF" ] && [ "$SCENARIO" != orders ] && fail "--qf-relay: the QuickFIX relay forwards orders only"
[ -n "$USERSPACE" ] && [ -n "$STEPS" ] && fail "--steps/--search run on kernel sockets: not with --userspace"
[ -n "$SMOKE" ] && [ ! -x "$CTL" ] && fail "not built: $CTL (the smoke test checks fixmux's internal latency)"
for st in $STEPS; do
	u=${st%%:*}
	case "$st" in *:*) ;; *) fail "--steps wants USERS:RATE pairs, not '$st'" ;; esac
	case "$u" in ''|*[!0-9]*) fail "--steps: '$st'" ;; esac
	[ "$u" -gt "$USERS" ] && USERS=$u
done
[ "$USERS" -ge 1 ] && [ "$USERS" -le 1000 ] || fail "--users from 1 to 1000"
if [ -n "$QF" ]; then
	[ -x "$QFRELAY" ] || fail "not built: $QFRELAY (needs libquickfix-dev)"
	[ -f "$QFDICT" ] || fail "no QuickFIX dictionary at $QFDICT (set FIXMUX_QUICKFIX_REF)"
fi
DIRECT_USERS=$(( USERS < 62 ? USERS : 62 ))

mkdir -p "$OUT"
rm -rf "$OUT/store" "$OUT/vsim"
ns_create

echo "bench-secret-$$" >"$OUT/pw"
HASH=$("$PASSWD" <"$OUT/pw")
{
	cat <<-EOF
	[appliance]
	client_port = $CLIENT_DEV
	venue_port = net_tap1
	client_address = 198.18.0.2/24
	venue_address = 198.18.1.2/24
	listen_port = 9878
	store_dir = $OUT/store
	fsync = none
	idle = $IDLE

	[venue SIM]
	type = CLOB

	[session SIM.Orders]
	address = 198.18.1.1:9880
	sender_comp_id = FIXMUX
	target_comp_id = SIMVENUE
	EOF
	for i in $(seq 1 "$USERS"); do
		printf '\n[user u%03d]\npassword_hash = %s\nsessions = SIM.Orders\n' "$i" "$HASH"
	done
} >"$OUT/fixmux.ini"
{
	echo "FIX.4.4:SIMVENUE:FIXMUX"
	echo "FIX.4.4:SIMVENUE:QFRELAY:reset"
	for i in $(seq 1 "$DIRECT_USERS"); do printf 'FIX.4.4:SIMVENUE:u%03d:reset\n' "$i"; done
} >"$OUT/vsim.sessions"

# fixmux first: its TAP devices are born inside the namespace. One lcore; hugepages when 256 MB
# of them are free (4 KiB pages cost the stack TLB misses on every mbuf, docs/benchmarks.md
# "TCP stack"), else 4 KiB pages as the e2e test runs.
free_huge=$(awk '/HugePages_Free/ {f=$2} /Hugepagesize/ {s=$2} END {print f * s / 1024}' /proc/meminfo)
# The smoke test times nothing: 4 KiB pages, so it never competes for hugepages with a
# concurrent run between the check and fixmux's start.
if [ -z "$SMOKE" ] && [ "${free_huge%.*}" -ge 256 ] 2>/dev/null; then
	MEM=(--huge-unlink -m 256) MEMNAME=hugepages
else
	MEM=(--no-huge -m 512) MEMNAME="4 KiB pages"
fi
# With telemetry (no --no-telemetry): the harness reads fixmux's internal latency through it.
PREFIX=fmx_bench_$$
if [ -n "$USERSPACE" ]; then
	CLIENT_VDEV=--vdev=net_memif0,role=server,socket=$OUT/memif.sock
else
	CLIENT_VDEV=--vdev=net_tap0,iface=fmxbc0
fi
echo "run.sh: fixmux on lcore 0, idle=$IDLE, $MEMNAME; $USERS users configured"
ip netns exec "$NS" "$FIXMUX" "${MEM[@]}" --no-pci -l 0 \
	--file-prefix="$PREFIX" "$CLIENT_VDEV" --vdev=net_tap1,iface=fmxbv0 -- \
	--config "$OUT/fixmux.ini" --stats-file "$OUT/fixmux-stats.json" \
	>"$OUT/fixmux.out" 2>"$OUT/fixmux.err" &
FMX_PID=$!
wait_listening "$FMX_PID" "$OUT/fixmux.out" || fail "fixmux did not start within 10 s"
if [ -n "$USERSPACE" ]; then
	# The QuickFIX relay's address, which the client TAP would otherwise carry.
	ip -n "$NS" addr add 198.18.0.1/32 dev lo
else
	configure_tap fmxbc0 02:00:c6:12:00:01 198.18.0.1/24
fi
configure_tap fmxbv0 02:00:c6:12:01:01 198.18.1.1/24

ip netns exec "$NS" "$VSIM" --listen 198.18.1.1:9880 --mode exchange --store "$OUT/vsim" \
	--sessions "$OUT/vsim.sessions" --fill-ratio 1 --md-rate "$MD_RATE" \
	--stats-file "$OUT/vsim-stats.json" --port-file "$OUT/vsim.port" --quiet \
	>"$OUT/vsim.log" 2>&1 &
VSIM_PID=$!
for _ in $(seq 200); do
	[ -s "$OUT/vsim.port" ] && break
	kill -0 "$VSIM_PID" 2>/dev/null || fail "venue simulator died at start-up"
	sleep 0.05
done
[ -s "$OUT/vsim.port" ] || fail "venue simulator not listening after 10 s"

if [ -n "$QF" ]; then
	ip netns exec "$NS" "$QFRELAY" --listen 9881 --venue 198.18.1.1:9880 --users "$USERS" \
		--dict "$QFDICT" >"$OUT/qfrelay.log" 2>&1 &
	QF_PID=$!
	for _ in $(seq 200); do
		grep -q "listening on" "$OUT/qfrelay.log" 2>/dev/null && break
		kill -0 "$QF_PID" 2>/dev/null || fail "QuickFIX relay died at start-up: $(cat "$OUT/qfrelay.log")"
		sleep 0.05
	done
	sleep 1 # its initiator logs on to the simulator (ReconnectInterval 1 s)
fi

if [ -n "$STEPS" ]; then
	# One fixmux-only run per step on the same appliance; each run's JSON kept in step-U-R.json.
	printf '%-6s %8s %5s %10s %10s %10s %10s %10s  %s\n' users rate ok p50_us p90_us p99_us \
		p99.9_us max_us note | tee "$OUT/steps.txt"
	best=none
	for st in $STEPS; do
		u=${st%%:*} r=${st##*:} src=0
		ip netns exec "$NS" "$BENCH" --fixmux 198.18.0.2:9878 --users "$u" --password-file \
			"$OUT/pw" --rate "$r" --duration "$DURATION" --warmup "$WARMUP" --json \
			--no-progress "${EXTRA[@]}" >"$OUT/step-$u-$r.json" 2>"$OUT/step-$u-$r.err" || src=$?
		line=$(/usr/bin/python3 - "$OUT/step-$u-$r.json" "$OUT/step-$u-$r.err" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if '"phase"' in l][0]
err = open(sys.argv[2]).read().strip().splitlines()
print("%-6d %8d %5s %10.1f %10.1f %10.1f %10.1f %10.1f  %s" % (r["users"], r["rate"],
      "yes" if r["ok"] else "NO", r["p50_us"], r["p90_us"], r["p99_us"], r["p99.9_us"],
      r["max_us"], "" if r["ok"] else (err[-1] if err else r.get("error", ""))))
PY
)
		echo "$line" | tee -a "$OUT/steps.txt"
		if [ -n "$SEARCH" ]; then
			p99=$(echo "$line" | awk '{print $6}')
			if [ $src -ne 0 ] || awk -v p="$p99" 'BEGIN{exit !(p >= 100)}'; then break; fi
			best=$r
		fi
		sleep 1 # let fixmux log the users out before the next step logs them on
	done
	[ -n "$SEARCH" ] && echo "highest offered rate with p99 under 100 us (10 users): $best orders/s" |
		tee -a "$OUT/steps.txt"
	exit 0
fi

ARGS=(--fixmux 198.18.0.2:9878 --users "$USERS" --password-file "$OUT/pw" --rate "$RATE"
	--duration "$DURATION" --warmup "$WARMUP" --out-dir "$OUT" --scenario "$SCENARIO"
	--threads "$THREADS" --md-rate "$MD_RATE" --md-subs "$MD_SUBS" --md-symbols "$MD_SYMBOLS")
[ -x "$CTL" ] && ARGS+=(--latency-cmd "'$CTL' --file-prefix $PREFIX --json latency")
[ -x "$CTL" ] && ARGS+=(--latency-reset-cmd "'$CTL' --file-prefix $PREFIX latency reset")
# The harness's own EAL: 4 KiB pages, its own prefix, the memif client; its lcore may run on
# either CPU (fixmux has lcore 0 pinned to CPU 0).
[ -n "$USERSPACE" ] && ARGS+=(--dpdk "--no-huge -m 256 --no-pci -l 1 --file-prefix fmx_bench_h_$$ --vdev=net_memif0,role=client,socket=$OUT/memif.sock --log-level=*:warning"
	--dp-dev net_memif0 --dp-ip 198.18.0.1/24)
[ -n "$QF" ] && ARGS+=(--qf-relay 198.18.0.1:9881)
[ -n "$DIRECT" ] && ARGS+=(--direct 198.18.1.1:9880 --direct-users "$DIRECT_USERS")
[ -n "$JSON" ] && ARGS+=(--json)
[ -n "$SMOKE" ] && ARGS+=(--json --no-progress)
rc=0
ip netns exec "$NS" "$BENCH" "${ARGS[@]}" "${EXTRA[@]}" | tee "$OUT/result.txt" || rc=$?

kill -TERM "$FMX_PID" 2>/dev/null && wait "$FMX_PID" 2>/dev/null || true
FMX_PID=
kill -TERM "$VSIM_PID" 2>/dev/null && wait "$VSIM_PID" 2>/dev/null || true
VSIM_PID=
if [ -n "$QF_PID" ]; then
	kill -TERM "$QF_PID" 2>/dev/null && wait "$QF_PID" 2>/dev/null || true
	QF_PID=
fi
[ $rc -eq 0 ] || fail "fixmux-bench exit status $rc"

if [ -n "$PLOTS" ]; then
	gnuplot -e "dir='$OUT'" "$HERE/plot.gp" && echo "plots: $(ls "$OUT"/*.png | tr '\n' ' ')"
fi

if [ -n "$SMOKE" ]; then
	# Every order answered and every subscription served in every phase, the threads' counts
	# add up, fixmux's internal counts match the traffic, the files agree with the summary.
	/usr/bin/python3 - "$OUT" "$SCENARIO" "$RATE" "$DURATION" "$WARMUP" "$USERS" "$MD_SUBS" \
		"$THREADS" <<'PY'
import json, sys, os
out, scn = sys.argv[1], sys.argv[2]
rate, dur, warm = float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
users, md_subs, threads = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
rows = [json.loads(l) for l in open(os.path.join(out, "result.txt")) if l.startswith("{")]
def check(c, what):
    if not c:
        print("FAIL: " + what); sys.exit(1)
    print("ok: " + what)
streams = {"orders": ["orders"], "md": ["md"], "mix": ["orders", "md"]}[scn]
want_phases = {"fixmux", "direct"} | ({"qfrelay"} if os.path.exists(os.path.join(out, "qfrelay.csv")) else set())
res = {(r["scenario"], r["phase"]): r for r in rows if "phase" in r and r["scenario"] != "internal"}
check(set(res) == {(s, p) for s in streams for p in want_phases},
      "%s reported for the phases %s" % ("/".join(streams), " ".join(sorted(want_phases))))
for s in streams:
    check(any(r.get("ratio") == "fixmux/direct" and r["scenario"] == s for r in rows),
          "%s: the fixmux/direct ratio is reported" % s)
def files(name, sfx, r):
    hgrm = open(os.path.join(out, name + sfx + ".hgrm")).read()
    check("Total count    = %12d]" % r["recorded"] in hgrm, "%s%s.hgrm total matches" % (name, sfx))
    csv = open(os.path.join(out, name + sfx + ".csv")).read().splitlines()
    check(csv[0].startswith("Value,Percentile") and csv[-1].split(",")[1].startswith("1.0"),
          "%s%s.csv ends at percentile 1" % (name, sfx))
    tl = open(os.path.join(out, name + sfx + "-timeline.csv")).read().splitlines()
    check(sum(int(l.split(",")[1]) for l in tl[1:]) == r["recorded"],
          "%s%s-timeline.csv seconds add up to the recorded count" % (name, sfx))
def ordered(r, what):
    check(0 < r["p50_us"] <= r["p90_us"] <= r["p99_us"] <= r["p99.9_us"] <= r["p99.99_us"] <= r["max_us"],
          "%s: percentiles ordered and positive" % what)
def threads_add_up(r, keys, what):
    t = r["threads"]
    nt = 1 if r.get("transport") == "userspace" else min(threads, r["users"])
    check(len(t) == nt and sum(x["users"] for x in t) == r["users"],
          "%s: %d threads carry the %d users" % (what, len(t), r["users"]))
    for k, total in keys:
        check(sum(x[k] for x in t) == r[total], "%s: threads' %s add up to %d" % (what, k, r[total]))
want = int(rate * dur)
for (s, name), r in sorted(res.items()):
    what = "%s %s" % (name, s)
    check(r["ok"], what + ": ok " + r.get("error", ""))
    if s == "orders":
        check(r["sent"] == want and r["answered"] == want and r["unanswered"] == 0
              and r["rejected"] == 0, "%s: %d orders sent, each got its ExecutionReport" % (what, want))
        # the warm-up is matched but not recorded: about rate * (dur - warm) values
        check(abs(r["recorded"] - rate * (dur - warm)) <= 2 * threads, "%s: %d latencies recorded" % (what, r["recorded"]))
        threads_add_up(r, [("sent", "sent"), ("answered", "answered"), ("recorded", "recorded")], what)
        files(name, "", r)
    else:
        check(r["subs"] == users * md_subs and r["snapshots"] == r["subs"],
              "%s: %d subscriptions, each answered by its snapshot" % (what, r["subs"]))
        check(r["md_rejects"] == 0 and r["unstamped"] == 0 and 0 < r["recorded"] <= r["updates"],
              "%s: %d increments, all stamped, %d recorded" % (what, r["updates"], r["recorded"]))
        threads_add_up(r, [("updates", "updates"), ("recorded", "recorded")], what)
        files(name, "-md", r)
    ordered(r, what)
# fixmux's own latency, beside its phase: both directions, the phase's counts are its traffic.
internal = {r["direction"]: r for r in rows if r.get("scenario") == "internal" and "direction" in r}
check(set(internal) == {"client_to_venue", "venue_to_client"}, "fixmux internal latency: both directions reported")
for d, r in internal.items():
    check(r["count"] >= r["count_phase"] > 0 and r["min_us"] <= r["p50_us"] <= r["p99_us"] <= r["max_us"],
          "internal %s: %d messages in the phase, percentiles ordered" % (d, r["count_phase"]))
o, m = res.get(("orders", "fixmux")), res.get(("md", "fixmux"))
sent = (o["sent"] if o else 0) + (m["subs"] if m else 0)  # orders, and the unsubscribes
check(internal["client_to_venue"]["count_phase"] == sent,
      "internal client_to_venue: %d forwarded in the phase = the harness's orders and unsubscribes" % sent)
got = (o["answered"] if o else 0) + (m["updates"] if m else 0)
check(internal["venue_to_client"]["count_phase"] >= got,
      "internal venue_to_client: at least the %d reports and increments the harness received" % got)
PY
	echo "PASS: fixmux-bench smoke ($SCENARIO)"
fi
