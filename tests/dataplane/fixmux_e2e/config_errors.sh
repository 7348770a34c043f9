#!/usr/bin/env bash
# fixmux refuses a bad command line (exit 2) and a bad configuration (exit 1, the loader's
# "FILE[:LINE]: [section] key: rule" message on stderr) before it touches DPDK: no root, no
# devices needed.
#   config_errors.sh FIXMUX PASSWD
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../../../dataplane/fmx_ns.sh"
FIXMUX=$1
PASSWD=$2
WORK=$(mktemp -d /tmp/fixmux-cfgerr.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# expect_refusal NAME STATUS PATTERN ARGS...: fixmux ARGS must exit STATUS with PATTERN on stderr
expect_refusal() {
	local name=$1 want=$2 pattern=$3 rc=0
	shift 3
	"$FIXMUX" "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "$name: exit $rc, wanted $want; stderr: $(cat "$WORK/err")"
	grep -qF -- "$pattern" "$WORK/err" ||
		fail "$name: stderr lacks '$pattern': $(cat "$WORK/err")"
	echo "ok: $name: exit $rc, $(head -n1 "$WORK/err")"
}

HASH=$(echo "secret" | "$PASSWD")
good_ini() {
	min_ini net_tap0 net_tap1 "$WORK/store" "$HASH"
}

expect_refusal "no --" 2 "usage:" --no-huge
expect_refusal "no --config" 2 "usage:" --no-huge --
expect_refusal "unknown option" 2 "usage:" --no-huge -- --config x --bogus
expect_refusal "bad --duration" 2 "--duration" --no-huge -- --config x --duration soon
expect_refusal "missing file" 1 "$WORK/none.ini" --no-huge -- --config "$WORK/none.ini"

good_ini | sed '/^store_dir/d' >"$WORK/a.ini"
expect_refusal "no store_dir" 1 "[appliance] store_dir: is required" -- --config "$WORK/a.ini"

good_ini | sed 's/^type = CLOB/type = Exchange/' >"$WORK/b.ini"
expect_refusal "bad venue type" 1 "b.ini:9: [venue SIM] type:" -- --config "$WORK/b.ini"

# the guidelines' table: a CLOB venue has no RFS session
{ good_ini; printf '[session SIM.RFS]\naddress = 198.18.1.1:9881\nsender_comp_id = F\ntarget_comp_id = S\n'
  printf '[user bob]\npassword_hash = %s\nsessions = SIM.RFS\n' "$HASH"; } >"$WORK/c.ini"
expect_refusal "RFS on a CLOB venue" 1 "[session SIM.RFS]" -- --config "$WORK/c.ini"

good_ini | sed '/^client_port/d' >"$WORK/d.ini"
expect_refusal "no client_port" 1 "[appliance] client_port: is required by fixmux" \
	-- --config "$WORK/d.ini"

good_ini | sed 's/^venue_port = net_tap1/venue_port = net_tap0/' >"$WORK/e.ini"
expect_refusal "one port, two addresses" 1 "venue_address must equal client_address" \
	-- --config "$WORK/e.ini"
{ good_ini; } | sed 's/^listen_port = 9878/listen_port = 9878\ncores = client:1,router:2/' >"$WORK/f.ini"
expect_refusal "unknown role" 1 "[appliance] cores:" -- --config "$WORK/f.ini"
# client_gateway: on the client network; one device has one next hop
good_ini | sed 's/^listen_port = 9878/listen_port = 9878\nclient_gateway = 198.18.9.1/' >"$WORK/g.ini"
expect_refusal "client_gateway off the client network" 1 \
	"[appliance] client_gateway: 198.18.9.1 is not on the network of client_address" \
	-- --config "$WORK/g.ini"
good_ini | sed -e 's/^venue_port = net_tap1/venue_port = net_tap0/' \
	-e 's#^venue_address = .*#venue_address = 198.18.0.2/24\nvenue_gateway = 198.18.0.1#' \
	-e 's/^listen_port = 9878/listen_port = 9878\nclient_gateway = 198.18.0.254/' >"$WORK/h.ini"
expect_refusal "one port, two gateways" 1 "client_gateway and venue_gateway must be equal" \
	-- --config "$WORK/h.ini"
echo "PASS: configuration errors"
