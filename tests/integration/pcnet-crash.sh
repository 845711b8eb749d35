#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Crash isolation of dev-pcnet: the guest runs loopback traffic through its
# PCnet (test=pcnet-persist) while dev-pcnet is SIGKILLed and started again
# three times, then kills itself in the middle of handing a received frame
# back (SPLITVMM_FAULT=rx-handback, the frame written, its descriptor not
# yet the guest's): the successor must finish that hand-back, so the guest
# sees the frame, not an error.  Passes when the guest passes (traffic resumed after every
# restart, every frame that came back byte-exact, no ring stalled, no
# memory outside the chip's buffers touched), every successor resumed the
# dead process's state instead of resetting the chip, and vmm-core exits 0.
#
#   pcnet-crash.sh VMM ELF DEV-PCNET
#
# Every wait is bounded; every process started here is ended on exit.
set -u
[ $# -eq 3 ] || { echo "usage: $0 VMM ELF DEV-PCNET" >&2; exit 2; }
vmm=$(realpath "$1") elf=$(realpath "$2") pcnet=$(realpath "$3")
if [ ! -e /dev/kvm ]; then
	echo "SKIP: no /dev/kvm here (device tests run vmm-core on this host)"
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pcnet-crash.XXXXXX")
sock=$tmp/pcnet.sock console=$tmp/console
vmm_pid='' dev_pid='' n=0

cleanup() {
	[ -n "$dev_pid" ] && kill -9 "$dev_pid" 2>/dev/null
	[ -n "$vmm_pid" ] && kill "$vmm_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show() {
	echo "--- guest console"; grep -v ': ok rx=' "$console"
	echo "($(grep -c ': ok rx=' "$console") progress lines)"
	echo "--- vmm-core stderr"; cat "$tmp/vmm.err"
	for f in "$tmp"/dev.*.err; do echo "--- $(basename "$f")"; cat "$f"; done
}
die() { echo "FAIL: $*" >&2; show; exit 1; }
progress() { grep -c ': ok rx=' "$console" 2>/dev/null; }
wait_progress() {	# wait_progress MIN SECONDS
	for _ in $(seq $(($2 * 20))); do
		[ "$(progress)" -ge "$1" ] && return 0
		kill -0 "$vmm_pid" 2>/dev/null || break
		sleep 0.05
	done
	die "guest progress stopped at $(progress) lines (wanted $1) after dev-pcnet #$n"
}
start_dev() {	# start_dev [ENV=VALUE...]
	n=$((n + 1))
	env "$@" "$pcnet" --connect "$sock" </dev/null 2>"$tmp/dev.$n.err" &
	dev_pid=$!
}

timeout 120 "$vmm" --kernel "$elf" --cmdline "test=pcnet-persist ms=10000 every=200" \
	--memory 64 --device-sock "$sock" --device-timeout 10000 --verbose \
	</dev/null >"$console" 2>"$tmp/vmm.err" &
vmm_pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || die "vmm-core did not create $sock"
start_dev
wait_progress 3 20
for round in 1 2 3; do
	kill -9 "$dev_pid"
	wait "$dev_pid" 2>/dev/null
	dev_pid=''
	# Let the guest run into the dead device: its vCPU parks on a read.
	sleep 0.3
	seen=$(progress)
	start_dev
	wait_progress $((seen + 3)) 20
	grep -qF "attached generation $((round + 1)), state resumed" "$tmp/dev.$n.err" ||
		die "dev-pcnet #$n did not resume the state (want 'attached generation $((round + 1)), state resumed')"
done
# The 50th receive hand-back of the next process is where it dies.
kill -9 "$dev_pid"
wait "$dev_pid" 2>/dev/null
start_dev SPLITVMM_FAULT=rx-handback:50
for _ in $(seq 200); do kill -0 "$dev_pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$dev_pid" 2>/dev/null && die "dev-pcnet #$n did not reach its fault point in 10 s"
wait "$dev_pid" 2>/dev/null
dev_pid=''
grep -qF "SIGKILL at rx-handback" "$tmp/dev.$n.err" || die "dev-pcnet #$n did not die at rx-handback"
seen=$(progress)
start_dev
wait_progress $((seen + 3)) 20
grep -qF "attached generation 6, state resumed (an update was in progress: rolled forward)" "$tmp/dev.$n.err" ||
	die "dev-pcnet #$n did not roll the hand-back forward"
wait "$vmm_pid"
status=$?
vmm_pid=''
[ "$status" = 0 ] || die "vmm-core exit status $status, expected 0"
grep -qF "TEST PASS pcnet-persist" "$console" || die "no TEST PASS pcnet-persist"
grep -qF "generation 6" "$tmp/vmm.err" || die "vmm-core did not see 6 attaches"
show
echo "PASS pcnet-crash: 3 kills under traffic, one in a receive hand-back"
