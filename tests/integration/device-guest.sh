#!/bin/bash
# SPDX-License-Identifier: MIT
#
# One test-guest scenario under vmm-core with one out-of-process device:
#
#   device-guest.sh VMM ELF CMDLINE DEVICE [DEVICE-ARGS...]
#
# vmm-core listens on a fresh socket (--device-sock), DEVICE is started with
# --connect SOCKET once the socket exists, and the test passes when the guest
# prints "TEST PASS <test>", vmm-core exits 0 and the device, seeing the
# hang-up, exits 0 by itself.  Every wait is bounded; every process started
# here is ended on exit.  Needs /dev/kvm (77 without it).
set -u

[ $# -ge 4 ] || { echo "usage: $0 VMM ELF CMDLINE DEVICE [ARGS...]" >&2; exit 2; }
vmm=$(realpath "$1") elf=$(realpath "$2") cmdline=$3 dev=$(realpath "$4")
shift 4
if [ ! -e /dev/kvm ]; then
	echo "SKIP: no /dev/kvm here (device tests run vmm-core on this host)"
	exit 77
fi
test_name=$(printf '%s\n' "$cmdline" | tr ' ' '\n' | sed -n 's/^test=//p' | tail -n1)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/device-guest.XXXXXX")
sock=$tmp/dev.sock
vmm_pid='' dev_pid=''

cleanup() {
	[ -n "$dev_pid" ] && kill -9 "$dev_pid" 2>/dev/null
	[ -n "$vmm_pid" ] && kill "$vmm_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show() {
	echo "--- guest console"; cat "$tmp/console"
	echo "--- vmm-core stderr"; cat "$tmp/vmm.err"
	echo "--- $(basename "$dev") stderr"; cat "$tmp/dev.err"
}
die() { echo "FAIL: $*" >&2; show; exit 1; }

timeout 120 "$vmm" --kernel "$elf" --cmdline "$cmdline" --memory 64 \
	--device-sock "$sock" --verbose </dev/null >"$tmp/console" 2>"$tmp/vmm.err" &
vmm_pid=$!
for _ in $(seq 100); do
	[ -S "$sock" ] && break
	kill -0 "$vmm_pid" 2>/dev/null || die "vmm-core exited before creating $sock"
	sleep 0.05
done
[ -S "$sock" ] || die "vmm-core did not create $sock within 5 s"
"$dev" --connect "$sock" "$@" </dev/null 2>"$tmp/dev.err" &
dev_pid=$!

wait "$vmm_pid"
status=$?
vmm_pid=''
[ "$status" = 0 ] || die "vmm-core exit status $status, expected 0"
grep -qF "TEST PASS $test_name" "$tmp/console" || die "no 'TEST PASS $test_name'"
for _ in $(seq 100); do
	kill -0 "$dev_pid" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$dev_pid" 2>/dev/null && die "the device still runs 5 s after vmm-core exited"
wait "$dev_pid"
status=$?
dev_pid=''
[ "$status" = 0 ] || die "device exit status $status after vmm-core closed, expected 0"
show
echo "PASS $test_name with $(basename "$dev")"
