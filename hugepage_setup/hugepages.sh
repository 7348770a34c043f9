#!/usr/bin/env bash
# hugepages.sh: prepares a Linux box for fixmux's DPDK data plane.
#
#   hugepages.sh [--pages N] [--gb-pages N]   reserve at least N 2 MiB (default 512) and N 1 GiB
#                                             hugepages, mount hugetlbfs; says what it did
#   hugepages.sh --check                      report only: pages per size and NUMA node, mounts,
#                                             pdpe1gb, isolcpus/nohz_full/rcu_nocbs, governor, IRQs
#   hugepages.sh --bind PCI-ADDRESS [--force] bind a NIC to vfio-pci with DPDK's dpdk-devbind.py
#
# Idempotent: a reservation already as large as asked, or a mount already there, is left alone
# (and said so); reservations are never shrunk, because a running DPDK process may hold them.
# Every mode needs root. Exit status: 0 done (or nothing to do), 1 refused or failed, 2 usage.
# A reservation the kernel could satisfy only in part is a warning (exit 0) unless --strict.
set -euo pipefail

prog=hugepages.sh
hp_sys=/sys/kernel/mm/hugepages
mnt_2m=/dev/hugepages
mnt_1g=/dev/hugepages1G

say() { printf '%s: %s\n' "$prog" "$*"; }
warn() { printf '%s: WARNING: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }

usage() {
	sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-2}"
}

all_args="$*"
pages=512
gb_pages=
mode=reserve
bind_addr=
force=0
strict=0
pages_given=0

while [ $# -gt 0 ]; do
	case "$1" in
	--pages) [ $# -ge 2 ] || usage; pages=$2; pages_given=1; shift 2 ;;
	--gb-pages) [ $# -ge 2 ] || usage; gb_pages=$2; shift 2 ;;
	--check) mode=check; shift ;;
	--bind) [ $# -ge 2 ] || usage; mode=bind; bind_addr=$2; shift 2 ;;
	--force) force=1; shift ;;
	--strict) strict=1; shift ;;
	-h|--help) usage 0 ;;
	*) printf '%s: unknown option %s\n' "$prog" "$1" >&2; usage ;;
	esac
done

is_count() { [[ "$1" =~ ^[0-9]+$ ]] && [ "${#1}" -le 7 ]; }
is_count "$pages" || die "--pages wants a number of 2 MiB pages, got '$pages'"
[ -z "$gb_pages" ] || is_count "$gb_pages" || die "--gb-pages wants a number, got '$gb_pages'"

if [ "$(id -u)" -ne 0 ]; then
	die "must run as root (it writes /sys/kernel/mm/hugepages, mounts hugetlbfs and binds" \
	    "NICs; --check reads root-only IRQ and device state); try: sudo $0 $all_args"
fi

# ------------------------------------------------------------------------------------------
# helpers

read_or() { if [ -r "$1" ]; then cat "$1"; else echo "$2"; fi; }

has_pdpe1gb() { grep -qw pdpe1gb /proc/cpuinfo; }

# hugetlbfs mount point for a page size in kB, "" if none.
mount_for_size() {
	local want=$1 dev mp fs opts size
	while read -r dev mp fs opts _; do
		[ "$fs" = hugetlbfs ] || continue
		size=2048
		case ",$opts," in
		*,pagesize=1G,*|*,pagesize=1024M,*) size=1048576 ;;
		*,pagesize=2M,*) size=2048 ;;
		esac
		if [ "$size" = "$want" ]; then
			echo "$mp"
			return
		fi
	done </proc/mounts
}

cmdline_value() {
	local key=$1 w
	for w in $(cat /proc/cmdline); do
		case "$w" in
		--) break ;; # what follows is for init, not the kernel
		"$key"=*) echo "${w#*=}"; return ;;
		"$key") echo "(set)"; return ;;
		esac
	done
	echo ""
}

# ------------------------------------------------------------------------------------------
# --check

check() {
	local d size nr free resv surp node
	echo "== hugepages (per size) =="
	for d in "$hp_sys"/hugepages-*; do
		[ -d "$d" ] || continue
		size=${d##*-}
		nr=$(read_or "$d/nr_hugepages" '?')
		free=$(read_or "$d/free_hugepages" '?')
		resv=$(read_or "$d/resv_hugepages" '?')
		surp=$(read_or "$d/surplus_hugepages" '?')
		printf '  %-10s reserved %-6s free %-6s in-use-reserved %-4s surplus %s\n' \
			"$size" "$nr" "$free" "$resv" "$surp"
	done
	echo "== hugepages (per NUMA node) =="
	if ls -d /sys/devices/system/node/node[0-9]* >/dev/null 2>&1; then
		for node in /sys/devices/system/node/node[0-9]*; do
			for d in "$node"/hugepages/hugepages-*; do
				[ -d "$d" ] || continue
				printf '  %-6s %-10s reserved %-6s free %s\n' "${node##*/}" \
					"${d##*-}" "$(read_or "$d/nr_hugepages" '?')" \
					"$(read_or "$d/free_hugepages" '?')"
			done
		done
	else
		echo "  no NUMA information (kernel without CONFIG_NUMA)"
	fi
	echo "== hugetlbfs mounts =="
	if grep -q ' hugetlbfs ' /proc/mounts; then
		awk '$3 == "hugetlbfs" { printf "  %s (%s)\n", $2, $4 }' /proc/mounts
	else
		echo "  none (run $prog to mount $mnt_2m)"
	fi
	echo "== CPU =="
	if has_pdpe1gb; then
		echo "  pdpe1gb: yes (1 GiB pages possible)"
	else
		echo "  pdpe1gb: no (the CPU cannot map 1 GiB pages)"
	fi
	echo "  online CPUs: $(read_or /sys/devices/system/cpu/online '?')"
	local isol nohz rcu
	isol=$(cmdline_value isolcpus)
	nohz=$(cmdline_value nohz_full)
	rcu=$(cmdline_value rcu_nocbs)
	echo "== kernel command line (/proc/cmdline) =="
	for key in isolcpus nohz_full rcu_nocbs irqaffinity default_hugepagesz hugepagesz \
		hugepages intel_iommu iommu idle processor.max_cstate intel_idle.max_cstate \
		mitigations; do
		local v
		v=$(cmdline_value "$key")
		printf '  %-22s %s\n' "$key" "${v:-not set}"
	done
	[ -n "$isol" ] || echo "  advice: no isolated cores; see hugepage_setup/README.md (isolcpus)"
	if [ -n "$isol" ] && [ "$isol" != "$nohz" ]; then
		echo "  advice: nohz_full ($nohz) differs from isolcpus ($isol)"
	fi
	if [ -n "$isol" ] && [ "$isol" != "$rcu" ]; then
		echo "  advice: rcu_nocbs ($rcu) differs from isolcpus ($isol)"
	fi
	echo "== CPU frequency governor =="
	local govs
	govs=$(cat /sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor 2>/dev/null |
		sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep=", " }' || true)
	if [ -n "$govs" ]; then
		echo "  $govs"
		case "$govs" in
		*performance*) ;;
		*) echo "  advice: use the performance governor on data-plane cores" ;;
		esac
	else
		echo "  no cpufreq interface (virtual machine, or frequency fixed by firmware)"
	fi
	echo "== IRQ affinity =="
	local irqs=0 f
	declare -A aff=()
	for f in /proc/irq/[0-9]*/smp_affinity_list; do
		[ -r "$f" ] || continue
		local a
		a=$(cat "$f" 2>/dev/null) || continue
		aff[$a]=$(( ${aff[$a]:-0} + 1 ))
		irqs=$((irqs + 1))
	done
	echo "  default affinity: $(read_or /proc/irq/default_smp_affinity '?') (mask)"
	for a in "${!aff[@]}"; do
		printf '  %4d IRQs on CPUs %s\n' "${aff[$a]}" "$a"
	done
	[ "$irqs" -gt 0 ] || echo "  no IRQs listed in /proc/irq"
	if pidof irqbalance >/dev/null 2>&1; then
		echo "  irqbalance: running (it may move IRQs onto isolated cores unless banned)"
	else
		echo "  irqbalance: not running"
	fi
	echo "== NICs and vfio =="
	local dev cls drv any=0
	for dev in /sys/bus/pci/devices/*; do
		[ -e "$dev/class" ] || continue
		cls=$(cat "$dev/class")
		case "$cls" in 0x02*) ;; *) continue ;; esac
		drv=$(basename "$(readlink "$dev/driver" 2>/dev/null)" 2>/dev/null || true)
		printf '  %s class %s driver %s numa_node %s\n' "${dev##*/}" "$cls" \
			"${drv:-none}" "$(read_or "$dev/numa_node" '?')"
		any=1
	done
	[ "$any" = 1 ] || echo "  no network PCI devices"
	local groups
	groups=$(find /sys/kernel/iommu_groups -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	echo "  IOMMU groups: $groups$([ "$groups" = 0 ] && echo ' (no IOMMU: vfio-pci needs' \
		'enable_unsafe_noiommu_mode, or use a TAP/AF_PACKET port)')"
	if [ -d /sys/module/vfio_pci ]; then
		echo "  vfio-pci: loaded"
	else
		echo "  vfio-pci: not loaded"
	fi
}

# ------------------------------------------------------------------------------------------
# reservation and mounts

# reserve SIZE_KB COUNT LABEL: at least COUNT pages of that size; prints what happened.
reserve() {
	local size=$1 want=$2 label=$3 f have got
	f="$hp_sys/hugepages-${size}kB/nr_hugepages"
	have=$(cat "$f")
	if [ "$have" -ge "$want" ]; then
		say "$label pages: $have reserved, at least $want asked: nothing to do"
		return 0
	fi
	# The kernel gives what it can find contiguous and leaves the value at what it got.
	if ! echo "$want" >"$f" 2>/dev/null; then
		warn "$label pages: the kernel refused writing $f (container without privileges?)"
		return 1
	fi
	got=$(cat "$f")
	if [ "$got" -lt "$want" ]; then
		warn "$label pages: asked $want, the kernel found memory for $got (was $have);" \
		     "reserve them at boot instead (see hugepage_setup/README.md)"
		return 1
	fi
	say "$label pages: reserved $got (was $have)"
}

# ensure_mount DIR PAGESIZE SIZE_KB
ensure_mount() {
	local dir=$1 ps=$2 size=$3 cur
	cur=$(mount_for_size "$size")
	if [ -n "$cur" ]; then
		say "hugetlbfs for $ps pages already mounted at $cur: nothing to do"
		return 0
	fi
	mkdir -p "$dir"
	if mount -t hugetlbfs -o "pagesize=$ps" nodev "$dir"; then
		say "mounted hugetlbfs (pagesize=$ps) at $dir"
	else
		warn "could not mount hugetlbfs at $dir"
		return 1
	fi
}

do_reserve() {
	local short=0
	local lockdir=/run/lock
	[ -d "$lockdir" ] && [ -w "$lockdir" ] || lockdir=/tmp
	exec 9>"$lockdir/fixmux-hugepages.lock"
	flock 9 # two concurrent runs (parallel test set-ups) must not interleave
	[ -d "$hp_sys/hugepages-2048kB" ] || die "this kernel has no 2 MiB hugepages" \
		"($hp_sys/hugepages-2048kB missing: CONFIG_HUGETLBFS off?)"
	reserve 2048 "$pages" "2 MiB" || short=1
	ensure_mount "$mnt_2m" 2M 2048 || short=1
	if [ -n "$gb_pages" ] && [ "$gb_pages" -gt 0 ]; then
		if ! has_pdpe1gb; then
			say "1 GiB pages: not reserved: the CPU lacks the pdpe1gb flag" \
			    "(/proc/cpuinfo), so it cannot map 1 GiB pages"
			short=1
		elif [ ! -d "$hp_sys/hugepages-1048576kB" ]; then
			say "1 GiB pages: not reserved: the kernel offers no 1 GiB pool" \
			    "($hp_sys/hugepages-1048576kB missing); boot with hugepagesz=1G"
			short=1
		else
			reserve 1048576 "$gb_pages" "1 GiB" || short=1
			ensure_mount "$mnt_1g" 1G 1048576 || short=1
		fi
	elif [ -n "$gb_pages" ]; then
		say "1 GiB pages: none asked"
	fi
	if [ "$short" = 1 ] && [ "$strict" = 1 ]; then
		die "not everything asked could be done (--strict)"
	fi
	return 0
}

# ------------------------------------------------------------------------------------------
# --bind

find_devbind() {
	local c
	for c in "$(command -v dpdk-devbind.py 2>/dev/null || true)" /usr/bin/dpdk-devbind.py \
		/usr/sbin/dpdk-devbind.py /usr/share/dpdk/usertools/dpdk-devbind.py; do
		[ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return 0; }
	done
	return 1
}

do_bind() {
	local addr=${bind_addr,,} dev cls drv devbind ifc
	if [[ "$addr" =~ ^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]]; then
		addr="0000:$addr"
	fi
	[[ "$addr" =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] ||
		die "'$bind_addr' is not a PCI address (want DDDD:BB:DD.F, e.g. 0000:01:00.0)"
	dev=/sys/bus/pci/devices/$addr
	if [ ! -e "$dev" ]; then
		local nics
		nics=$(for d in /sys/bus/pci/devices/*; do
			case "$(cat "$d/class" 2>/dev/null)" in 0x02*) printf ' %s' "${d##*/}" ;; esac
		done)
		die "no PCI device at $addr ($dev does not exist); network devices here:${nics:- none}"
	fi
	cls=$(cat "$dev/class")
	case "$cls" in
	0x02*) ;;
	*) die "$addr is not a network controller (PCI class $cls); refusing to bind it" ;;
	esac
	drv=$(basename "$(readlink "$dev/driver" 2>/dev/null)" 2>/dev/null || true)
	local drv_before=$drv
	if [ "$drv" = vfio-pci ]; then
		say "$addr is already bound to vfio-pci: nothing to do"
		return 0
	fi
	# A NIC that carries this machine's own traffic must not vanish under it.
	for ifc in "$dev"/net/* "$dev"/virtio*/net/*; do
		[ -e "$ifc" ] || continue
		# IFF_UP (flags bit 0) rather than operstate, which says "unknown" on some drivers.
		if (( $(cat "$ifc/flags" 2>/dev/null || echo 0) & 1 )) && [ "$force" != 1 ]; then
			die "$addr is interface ${ifc##*/}, which is up; binding it to vfio-pci takes" \
			    "it away from the kernel. Bring it down first, or pass --force"
		fi
	done
	devbind=$(find_devbind) || die "dpdk-devbind.py not found; install the Debian package" \
		"'dpdk' (apt-get install dpdk)"
	if [ ! -d /sys/module/vfio_pci ] && ! modprobe vfio-pci 2>/dev/null; then
		die "cannot load the vfio-pci module (modprobe vfio-pci failed): this kernel lacks" \
		    "it; use a TAP or AF_PACKET port instead"
	fi
	if [ "$(find /sys/kernel/iommu_groups -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)" = 0 ]; then
		warn "no IOMMU groups: vfio-pci works only with" \
		     "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode=Y"
	fi
	local fopt=()
	[ "$force" = 1 ] && fopt=(--force)
	"$devbind" "${fopt[@]}" --bind=vfio-pci "$addr" ||
		die "dpdk-devbind.py could not bind $addr to vfio-pci (see its message above)"
	drv=$(basename "$(readlink "$dev/driver" 2>/dev/null)" 2>/dev/null || true)
	[ "$drv" = vfio-pci ] || die "$addr is bound to '${drv:-nothing}', not vfio-pci"
	say "bound $addr to vfio-pci (was ${drv_before:-unbound})"
}

case "$mode" in
check) check ;;
bind)
	# Pages are reserved too only when asked for explicitly next to --bind.
	if [ "$pages_given" = 1 ] || [ -n "$gb_pages" ]; then
		do_reserve
	fi
	do_bind
	;;
reserve) do_reserve ;;
esac
