#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The reference out-of-process device (tests/refdev) under vmm-core, driven
# by the test guest's refdev scenario:
#
#   refdev.sh basic|kill-restart|absent VMM ELF REFDEV
#
#   basic         one refdev for the whole run: test=refdev mode=basic
#   kill-restart  mode=persist; refdev is SIGKILLed and started again twice
#                 while the guest runs, and each successor must resume
#   pump          mode=pump; refdev --coalesce-go: DMA_GO as coalesced PIO,
#                 which only vmm-core's pump delivers while the guest waits
#   absent        mode=absent; refdev is killed for good and the function
#                 must read as removed after --device-timeout
#
# Every wait is bounded and every process started here is ended on exit.
# Needs /dev/kvm (exit 77 without it: the nested-KVM path of run-vmm.sh
# cannot run a second process beside the VMM).
set -u

[ $# -eq 4 ] || { echo "usage: $0 MODE VMM ELF REFDEV" >&2; exit 2; }
mode=$1
vmm=$(realpath "$2") elf=$(realpath "$3") refdev=$(realpath "$4")
if [ ! -e /dev/kvm ]; then
	echo "SKIP: no /dev/kvm here (refdev tests need vmm-core on this host)"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/refdev-test.XXXXXX")
sock=$tmp/refdev.sock
console=$tmp/console
vmm_pid='' refdev_pid='' refdev_n=0

cleanup() {
	[ -n "$refdev_pid" ] && kill -9 "$refdev_pid" 2>/dev/null
	[ -n "$vmm_pid" ] && kill "$vmm_pid" 2>/dev/null	# timeout passes it on
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show() {
	echo "--- guest console"; cat "$console"
	echo "--- vmm-core stderr"; cat "$tmp/vmm.err"
	for f in "$tmp"/refdev.*.err; do
		[ -e "$f" ] && { echo "--- $(basename "$f")"; cat "$f"; }
	done
}

die() {
	echo "FAIL: $*" >&2
	show
	exit 1
}

start_vmm() {	# start_vmm CMDLINE [vmm-core options...]
	local cmdline=$1; shift
	timeout 60 "$vmm" --kernel "$elf" --cmdline "$cmdline" --memory 64 \
		--device-sock "$sock" "$@" </dev/null >"$console" 2>"$tmp/vmm.err" &
	vmm_pid=$!
	# vmm-core creates the socket; refdev may only start after that.
	for _ in $(seq 100); do
		[ -S "$sock" ] && return 0
		kill -0 "$vmm_pid" 2>/dev/null || die "vmm-core exited before creating $sock"
		sleep 0.05
	done
	die "vmm-core did not create $sock within 5 s"
}

start_refdev() {
	refdev_n=$((refdev_n + 1))
	"$refdev" --connect "$sock" "$@" </dev/null 2>"$tmp/refdev.$refdev_n.err" &
	refdev_pid=$!
}

kill_refdev() {
	kill -9 "$refdev_pid"
	wait "$refdev_pid" 2>/dev/null
	refdev_pid=''
}

wait_for() {	# wait_for FILE TEXT SECONDS [MIN-COUNT]: a line containing TEXT
	local file=$1 text=$2 secs=$3 min=${4:-1} i
	for ((i = 0; i < secs * 20; i++)); do
		[ "$(grep -cF -- "$text" "$file" 2>/dev/null)" -ge "$min" ] && return 0
		kill -0 "$vmm_pid" 2>/dev/null || break
		sleep 0.05
	done
	[ "$(grep -cF -- "$text" "$file" 2>/dev/null)" -ge "$min" ] && return 0
	die "no '$text' (x$min) in $(basename "$file") within $secs s"
}

# Waits for vmm-core and checks the guest passed.
finish_vmm() {
	local status
	wait "$vmm_pid"
	status=$?
	vmm_pid=''
	[ "$status" = 0 ] || die "vmm-core exit status $status, expected 0"
	grep -qF "TEST PASS refdev" "$console" || die "no TEST PASS refdev"
}

# After vmm-core is gone, the refdev still attached must see the hang-up
# and exit 0 by itself.
finish_refdev() {
	local status
	for _ in $(seq 100); do
		kill -0 "$refdev_pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$refdev_pid" 2>/dev/null && die "refdev still runs 5 s after vmm-core exited"
	wait "$refdev_pid"
	status=$?
	refdev_pid=''
	[ "$status" = 0 ] || die "refdev exit status $status after vmm-core closed, expected 0"
}

check_attach() {	# check_attach N fresh|resumed
	local f=$tmp/refdev.$1.err
	wait_for "$f" "refdev: attached generation" 5
	grep -qF "refdev: attached generation $1, $2" "$f" ||
		die "refdev #$1 did not print 'attached generation $1, $2'"
}

case $mode in
basic)
	start_vmm "test=refdev mode=basic" --cpus 2
	start_refdev
	check_attach 1 fresh
	finish_vmm
	finish_refdev
	;;
kill-restart)
	start_vmm "test=refdev mode=persist ms=6000 every=500"
	start_refdev
	check_attach 1 fresh
	wait_for "$console" "refdev: persist ok" 20
	for n in 2 3; do
		kill_refdev
		sleep 0.5
		# The guest is parked on its next read by now.
		seen=$(grep -cF "refdev: persist ok" "$console")
		start_refdev
		check_attach "$n" resumed
		# The guest goes on with this process before the next kill.
		wait_for "$console" "refdev: persist ok" 10 $((seen + 1))
	done
	finish_vmm
	finish_refdev
	grep -qF "refdev: persist " "$console" || die "no persist summary"
	;;
pump)
	# DMA_GO costs no exit: vmm-core's pump alone delivers it.
	start_vmm "test=refdev mode=pump rounds=200" --verbose
	start_refdev --coalesce-go
	check_attach 1 fresh
	finish_vmm
	finish_refdev
	grep -qF "refdev: pump delivered 200 coalesced writes" "$console" ||
		die "the guest did not report 200 delivered writes"
	pumped=$(sed -n 's/^vmm-core: stats: pump runs [0-9]* writes \([0-9]*\) .*/\1/p' "$tmp/vmm.err")
	[ "${pumped:-0}" -ge 200 ] ||
		die "the pump forwarded ${pumped:-no} writes, expected at least 200"
	echo "pump forwarded $pumped writes; $(grep -o 'longest [0-9]* us' "$console")"
	;;
absent)
	start_vmm "test=refdev mode=absent" --device-timeout 1000
	start_refdev
	check_attach 1 fresh
	wait_for "$console" "refdev: absent: waiting" 20
	kill_refdev
	finish_vmm
	grep -qF "refdev: absent reads all-ones" "$console" ||
		die "no 'refdev: absent reads all-ones'"
	;;
*)
	echo "unknown mode '$mode'" >&2
	exit 2
	;;
esac
show
echo "PASS refdev-$mode"
exit 0
