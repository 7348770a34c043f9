# Shell helpers shared by the scripts that run fixmux in a private network namespace: the demo
# (dataplane/demo.sh), the end-to-end tests (tests/dataplane/*/run_*.sh) and the latency
# harness (bench/harness/run.sh). Source it; it defines functions only. Callers set NS (the
# namespace) before using the ones that need it.

skip() {
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# ns_require BINARY...: skips (exit 77) where namespaces and TAP devices cannot be made (not
# root, no /dev/net/tun, no iproute2); fails naming a binary that was not built.
ns_require() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, TAP)"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	command -v ip >/dev/null || skip "no iproute2"
	local b
	for b in "$@"; do [ -x "$b" ] || fail "not built: $b"; done
}

# kill_wait PID...: kills and reaps each of the script's own children given (empty ones are
# skipped), for cleanup traps.
kill_wait() {
	local p
	for p in "$@"; do
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	return 0
}

# fmx_logs: the end of the logs a fixmux test keeps in $WORK (fixmux's stdout and stderr, the
# venue simulator's, the last statistics), for the output of a failed test.
fmx_logs() {
	echo "--- fixmux stdout"; tail -n 20 "$WORK/fixmux.out" 2>/dev/null
	echo "--- fixmux stderr"; tail -n 40 "$WORK/fixmux.err" 2>/dev/null
	echo "--- venue simulator"; tail -n 30 "$WORK/vsim.log" 2>/dev/null
	if [ -f "$WORK/stats.json" ]; then echo "--- fixmux stats"; cat "$WORK/stats.json"; fi
	return 0
}

# ns_create: the namespace with loopback up and IPv6 off (the tests speak IPv4 only).
ns_create() {
	ip netns add "$NS"
	ip -n "$NS" link set lo up
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
}

# ns_destroy: kills whatever still runs inside and removes the namespace.
ns_destroy() {
	local pid
	for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	return 0
}

# configure_tap DEV MAC ADDR/PREFIX: the kernel's side of one of fixmux's TAP ports: its own
# MAC (net_tap gives it the PMD's), a deep queue (the PMD reads one packet per read() and
# falls behind now and then on 2 shared cores), an address.
configure_tap() {
	local dev=$1 mac=$2 ip=$3
	ip -n "$NS" link set "$dev" address "$mac"
	ip -n "$NS" link set "$dev" txqueuelen 10000
	ip -n "$NS" addr add "$ip" dev "$dev"
	ip -n "$NS" link set "$dev" up
}

# wait_listening PID OUTFILE: until fixmux (PID) says "listening on" in OUTFILE; 1 if it died
# or did not within 10 s.
wait_listening() {
	local pid=$1 out=$2
	for _ in $(seq 200); do
		grep -q "listening on" "$out" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	grep -q "listening on" "$out"
}

# json FILE KEY...: values of a flat JSON object (0 for a missing key), space-separated.
json() {
	/usr/bin/python3 - "$@" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    d = {}
print(" ".join(str(d.get(k, 0)) for k in sys.argv[2:]))
PY
}

# expect WHAT GOT WANT
expect() {
	local what=$1 got=$2 want=$3
	[ "$got" = "$want" ] || fail "$what = $got, wanted $want"
	echo "ok: $what = $got"
}

# min_ini CLIENT_PORT VENUE_PORT STORE_DIR HASH: the smallest valid fixmux configuration (one
# CLOB venue, one Orders session, user alice), for tests that vary one thing around it.
min_ini() {
	cat <<EOF_INI
[appliance]
client_port = $1
venue_port = $2
client_address = 198.18.0.2/24
venue_address = 198.18.1.2/24
listen_port = 9878
store_dir = $3
[venue SIM]
type = CLOB
[session SIM.Orders]
address = 198.18.1.1:9880
sender_comp_id = FIXMUX
target_comp_id = SIMVENUE
[user alice]
password_hash = $4
sessions = SIM.Orders
EOF_INI
}
