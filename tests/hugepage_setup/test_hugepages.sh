#!/usr/bin/env bash
# Tests of hugepage_setup/hugepages.sh, one case per ctest test (registered from
# tests/fixcodec/hugepage_setup.cmake). Usage: test_hugepages.sh CASE
# Exit 0 pass, 1 fail, 77 skipped (not root: the script under test needs root).
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
script=$here/hugepage_setup/hugepages.sh
nr2m=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
nr1g=/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
out=$(mktemp)
err=$(mktemp)
tmpd=
trap 'rm -f "$out" "$err"; [ -z "$tmpd" ] || rm -rf "$tmpd"' EXIT

fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; exit 1; }
run() { "$@" >"$out" 2>"$err"; }
state() { cat "$nr2m"; cat "$nr1g" 2>/dev/null; grep ' hugetlbfs ' /proc/mounts | sort; }

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: must run as root"
	exit 77
fi
[ -x "$script" ] || { echo "FAIL: $script is not executable"; exit 1; }

case "${1:-}" in
check_changes_nothing)
	before=$(state)
	run "$script" --check || fail "--check exited $?"
	after=$(state)
	[ "$before" = "$after" ] || fail "--check changed the state: '$before' -> '$after'"
	for section in "hugepages (per size)" "per NUMA node" "hugetlbfs mounts" "pdpe1gb" \
		isolcpus nohz_full rcu_nocbs "governor" "IRQ affinity"; do
		grep -q "$section" "$out" || fail "--check does not report '$section'"
	done
	;;
reserve_is_idempotent)
	want=$(cat "$nr2m")
	[ "$want" -gt 0 ] || want=8
	run "$script" --pages "$want" || fail "first run exited $?"
	first=$(cat "$nr2m")
	[ "$first" -ge "$want" ] || fail "asked $want pages, $first reserved"
	grep -q ' /dev/hugepages hugetlbfs ' /proc/mounts ||
		grep -q 'pagesize=2M' /proc/mounts || fail "no hugetlbfs mount for 2 MiB pages"
	mounts=$(grep -c ' hugetlbfs ' /proc/mounts)
	run "$script" --pages "$want" || fail "second run exited $?"
	[ "$(cat "$nr2m")" = "$first" ] || fail "second run changed the reservation"
	[ "$(grep -c ' hugetlbfs ' /proc/mounts)" = "$mounts" ] || fail "second run mounted again"
	[ "$(grep -c 'nothing to do' "$out")" -ge 2 ] || fail "second run does not say it had nothing to do"
	# Asking for fewer never shrinks a reservation someone may be using.
	run "$script" --pages 1 || fail "--pages 1 exited $?"
	[ "$(cat "$nr2m")" = "$first" ] || fail "--pages 1 shrank the reservation"
	;;
refuses_non_root)
	# A copy anyone can read, run as nobody.
	tmpd=$(mktemp -d)
	chmod 755 "$tmpd"
	install -m 755 "$script" "$tmpd/hugepages.sh"
	before=$(state)
	for args in "--pages 4" "--check" "--bind 0000:00:00.0"; do
		# shellcheck disable=SC2086
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			bash "$tmpd/hugepages.sh" $args >"$out" 2>"$err"
		rc=$?
		[ "$rc" = 1 ] || fail "as nobody, '$args' exited $rc, not 1"
		grep -q "must run as root" "$err" || fail "as nobody, '$args' does not say why"
	done
	[ "$(state)" = "$before" ] || fail "the refused runs changed something"
	;;
bind_missing_device)
	run "$script" --bind 0000:ff:1f.7 && fail "binding a missing device succeeded"
	grep -q "no PCI device at 0000:ff:1f.7" "$err" || fail "no clear message"
	run "$script" --bind 7f:1e.6 && fail "binding a missing short address succeeded"
	grep -q "no PCI device at 0000:7f:1e.6" "$err" || fail "short address not normalised"
	;;
bind_rejects_bad_input)
	run "$script" --bind not-a-nic && fail "a malformed address was accepted"
	grep -q "not a PCI address" "$err" || fail "no clear message for a malformed address"
	run "$script" --pages lots && fail "a non-numeric page count was accepted"
	grep -q "wants a number" "$err" || fail "no clear message for a bad page count"
	# A device that is not a network controller is refused, if the machine has one.
	for d in /sys/bus/pci/devices/*; do
		case "$(cat "$d/class")" in 0x02*) continue ;; esac
		run "$script" --bind "${d##*/}" && fail "bound a non-network device ${d##*/}"
		grep -q "not a network controller" "$err" || fail "no clear message for ${d##*/}"
		break
	done
	;;
*)
	echo "unknown case '${1:-}'"
	exit 1
	;;
esac
echo "PASS: ${1}"
