#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The back-end goes away under traffic and comes back:
#
#   pcnet-reconnect.sh VMM ELF DEV_PCNET [FRAMES [kill|hang|device]]
#
# As pcnet-testpmd.sh (testpmd macswap behind net_vhost, dev-pcnet
# --backend), with test=pcnet-wire lossy=1.  Once frames flow:
#   kill  testpmd is killed (SIGKILL) and, once gone, a new one serves the
#         same socket;
#   hang  testpmd is stopped (SIGSTOP) for 2.5 s with the socket open: no
#         frame comes back, dev-pcnet gives it up after a second, then
#         reconnects once testpmd runs again (SIGCONT);
#   device dev-pcnet itself is killed (SIGKILL) and started again: it
#         resumes the chip from the state region (pending transmit
#         descriptors handed back) and opens a new vhost-user session.
# The guest must keep running and finish (frames of the moment lost, every
# frame that came back byte-exact), dev-pcnet must have connected twice,
# and the testpmd serving at the end must have forwarded frames.
# Root, /dev/kvm and dpdk-testpmd, else 77.
set -u

[ $# -ge 3 ] || { echo "usage: $0 VMM ELF DEV_PCNET [FRAMES]" >&2; exit 2; }
vmm=$(realpath "$1") elf=$(realpath "$2") dev=$(realpath "$3")
frames=${4:-40000} mode=${5:-kill}
case $mode in kill|hang|device) ;; *) echo "mode: kill, hang or device" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (DPDK's testpmd)"; exit 77; }
[ -e /dev/kvm ] || { echo "SKIP: no /dev/kvm here"; exit 77; }
testpmd=$(command -v dpdk-testpmd) || { echo "SKIP: no dpdk-testpmd (Debian package dpdk)"; exit 77; }
pin=()
cpu=${PIN_CPU-0}
[ -n "$cpu" ] && command -v taskset >/dev/null && pin=(taskset -c "$cpu")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pcnet-reconnect.XXXXXX")
vsock=$tmp/vhost.sock dsock=$tmp/dev.sock
prefix=pcnet-reconnect-$$
pmd_pid='' vmm_pid='' dev_pid=''

cleanup() {
	[ -n "$dev_pid" ] && kill -9 "$dev_pid" 2>/dev/null
	[ -n "$vmm_pid" ] && kill "$vmm_pid" 2>/dev/null
	[ -n "$pmd_pid" ] && kill -9 $(pgrep -P "$pmd_pid") "$pmd_pid" 2>/dev/null
	exec 3>&- 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp" "/var/run/dpdk/$prefix-1" "/var/run/dpdk/$prefix-2"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show() {
	echo "--- guest console"; cat "$tmp/console"
	echo "--- vmm-core stderr"; cat "$tmp/vmm.err"
	echo "--- dev-pcnet stderr"; cat "$tmp/dev.err"
	for f in "$tmp"/pmd*.out; do echo "--- $(basename "$f")"; tail -n 30 "$f"; done
}
die() { echo "FAIL: $*" >&2; show; exit 1; }
# The guest finished before the disruption: nothing was tested.  This
# script can be that late (it runs beside a vCPU that spins in guest code
# and a testpmd that busy-polls), so once more with twice the frames.
too_late() {
	[ -z "${PCNET_RECONNECT_AGAIN:-}" ] || die "$1, twice"
	echo "the guest finished before the $mode: running once more with $((frames * 2)) frames"
	exec 5>&2	# cleanup's exec sends stderr to /dev/null
	cleanup
	exec 2>&5 5>&-
	trap - EXIT
	PCNET_RECONNECT_AGAIN=1 exec "$0" "$vmm" "$elf" "$dev" "$((frames * 2))" "$mode"
}

# start_pmd N: testpmd number N on $vsock, commands from a FIFO on fd 3.
start_pmd() {
	rm -f "$vsock" "$tmp/pmd.in"
	mkfifo "$tmp/pmd.in"
	timeout -s KILL 300 "$testpmd" --no-huge -m 512 --no-pci -l 0,1 \
		--vdev "net_vhost0,iface=$vsock,client=0" --file-prefix="$prefix-$1" \
		--log-level=lib.eal:error -- -i --forward-mode=macswap \
		--port-topology=loop --nb-cores=1 --total-num-mbufs=8192 \
		<"$tmp/pmd.in" >"$tmp/pmd$1.out" 2>&1 &
	pmd_pid=$!
	exec 3>"$tmp/pmd.in"
	for _ in $(seq 600); do
		[ -S "$vsock" ] && break
		kill -0 "$pmd_pid" 2>/dev/null || die "testpmd $1 exited early"
		sleep 0.05
	done
	[ -S "$vsock" ] || die "testpmd $1 did not create $vsock within 30 s (its EAL start-up can take over 10 s on a loaded machine)"
	echo start >&3
}

start_pmd 1
timeout 240 "${pin[@]}" "$vmm" --kernel "$elf" \
	--cmdline "test=pcnet-wire frames=$frames window=8 lossy=1" --memory 64 \
	--device-sock "$dsock" </dev/null >"$tmp/console" 2>"$tmp/vmm.err" &
vmm_pid=$!
for _ in $(seq 100); do
	[ -S "$dsock" ] && break
	sleep 0.05
done
[ -S "$dsock" ] || die "vmm-core did not create $dsock within 5 s"
"${pin[@]}" "$dev" --connect "$dsock" --backend "$vsock" </dev/null 2>"$tmp/dev.err" &
dev_pid=$!
# The back-end must be serving before it goes away, or the scenario
# tests nothing (testpmd may answer late on a loaded machine: dev-pcnet
# retries, and a first connect after the hang would be the only one).
for _ in $(seq 1200); do
	grep -q 'backend .* connected' "$tmp/dev.err" && break
	kill -0 "$vmm_pid" 2>/dev/null || break
	sleep 0.05
done
grep -q 'backend .* connected' "$tmp/dev.err" ||
	die "dev-pcnet did not connect to testpmd within 60 s"
sleep 0.5
kill -0 "$vmm_pid" 2>/dev/null || too_late "the guest finished before the back-end went away"
tp=$(pgrep -P "$pmd_pid")
last=1
if [ "$mode" = device ]; then
	# Gone already: it saw vmm-core end, the guest is done.
	kill -9 "$dev_pid" 2>/dev/null || too_late "the guest finished before dev-pcnet was killed"
	wait "$dev_pid" 2>/dev/null
	mv "$tmp/dev.err" "$tmp/dev1.err"
	sleep 0.3
	"${pin[@]}" "$dev" --connect "$dsock" --backend "$vsock" </dev/null 2>"$tmp/dev.err" &
	dev_pid=$!
elif [ "$mode" = hang ]; then
	kill -STOP $tp
	sleep 2.5
	kill -CONT $tp
else
	# SIGKILL testpmd itself (the child of its timeout), then its timeout,
	# and wait until it is really gone (tearing down its memory takes a
	# while).
	kill -9 $tp "$pmd_pid" 2>/dev/null
	wait "$pmd_pid" 2>/dev/null
	for _ in $(seq 200); do
		[ -n "$tp" ] && kill -0 $tp 2>/dev/null || break
		sleep 0.05
	done
	exec 3>&-
	sleep 0.5
	start_pmd 2
	last=2
fi

wait "$vmm_pid"
status=$?
vmm_pid=''
[ "$status" = 0 ] || die "vmm-core exit status $status, expected 0"
grep -qF "TEST PASS pcnet-wire" "$tmp/console" || die "no 'TEST PASS pcnet-wire'"
line=$(grep -F 'frames sent (' "$tmp/console")
read -r sent back lost < <(printf '%s\n' "$line" |
	sed -n 's/.*: \([0-9]*\) frames sent (.*, \([0-9]*\) back byte-exact .* filtered, \([0-9]*\) lost.*/\1 \2 \3/p')
[ "${sent:-}" = "$frames" ] && [ "$((back + lost))" = "$frames" ] ||
	die "guest counts '$line'"
for _ in $(seq 100); do
	kill -0 "$dev_pid" 2>/dev/null || break
	sleep 0.05
done
wait "$dev_pid"
status=$?
dev_pid=''
[ "$status" = 0 ] || die "dev-pcnet exit status $status, expected 0"
if [ "$mode" = device ]; then
	grep -q 'state resumed' "$tmp/dev.err" || die "the new dev-pcnet did not resume the chip"
	n=$(sed -n 's/.*vhost-user: \([0-9]*\) connects.*/\1/p' "$tmp/dev.err" | tail -n1)
	[ "${n:-0}" -ge 1 ] || die "the new dev-pcnet did not connect"
else
	# At least twice: on a loaded machine the 1 s no-progress watchdog may
	# give up on a slow back-end once more, and reconnect again.
	n=$(sed -n 's/.*vhost-user: \([0-9]*\) connects.*/\1/p' "$tmp/dev.err" | tail -n1)
	[ "${n:-0}" -ge 2 ] || die "dev-pcnet did not connect twice (${n:-0} connects)"
fi
echo "show port stats 0" >&3
echo quit >&3
for _ in $(seq 200); do
	kill -0 "$pmd_pid" 2>/dev/null || break
	sleep 0.05
done
txp=$(sed -n '/NIC statistics for port 0/,/####/s/.*TX-packets: *\([0-9]*\).*/\1/p' "$tmp/pmd$last.out" | head -n1)
[ "${txp:-0}" -gt 0 ] || die "testpmd $last forwarded nothing"
show
echo "PASS back-end $mode under traffic: $back of $frames frames back byte-exact, $lost lost, $txp through testpmd $last"
grep -F 'dev-pcnet: backend' "$tmp/dev.err"
