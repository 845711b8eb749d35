#!/bin/bash
# SPDX-License-Identifier: MIT
#
# dev-pcnet as a vhost-user front-end of DPDK's net_vhost back-end:
#
#   pcnet-testpmd.sh VMM ELF DEV_PCNET [FRAMES [WINDOW [GUEST-ARGS...]]]
#
# dpdk-testpmd (--forward-mode=macswap, --port-topology=loop) serves
# net_vhost0 on a fresh socket; vmm-core boots the test guest with
# test=pcnet-wire and dev-pcnet connects to the core and, with --backend,
# to testpmd.  The guest sends FRAMES frames through the PCnet to the wire
# and checks each one back byte for byte (addresses swapped by the peer,
# pad and FCS added by the chip).  Then testpmd's port statistics must
# match the guest's counts: as many packets and bytes received as the guest
# sent, as many sent back.  GUEST-ARGS go to the scenario (rxbuf=B: small
# receive buffers, frames merged over several chains; foreign=K: frames the
# chip's filter drops).  Without them every frame must have come back in
# place (dev-pcnet's count of frames it moved itself is 0).  Every wait is bounded; every process started
# here is ended on exit.  Root and /dev/kvm and dpdk-testpmd, else 77.
#
# Placement (two CPUs here): testpmd's forwarding lcore polls CPU 1 without
# pause; vmm-core and dev-pcnet are pinned to CPU 0 (PIN_CPU, empty for no
# pinning), where dev-pcnet's wake-ups preempt the spinning vCPU at once.
# Unpinned, the vCPU and testpmd's poller end up sharing a CPU and every
# round trip waits for a scheduler slice (about 2300 instead of 15000
# round trips per second with 8 frames in flight).
set -u

[ $# -ge 3 ] || { echo "usage: $0 VMM ELF DEV_PCNET [FRAMES [WINDOW [GUEST-ARGS...]]]" >&2; exit 2; }
vmm=$(realpath "$1") elf=$(realpath "$2") dev=$(realpath "$3")
frames=${4:-2000} window=${5:-8}
shift $(($# < 5 ? $# : 5))
guest_args="$*"
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (DPDK's testpmd)"
	exit 77
fi
if [ ! -e /dev/kvm ]; then
	echo "SKIP: no /dev/kvm here (device tests run vmm-core on this host)"
	exit 77
fi
testpmd=$(command -v dpdk-testpmd) || { echo "SKIP: no dpdk-testpmd (Debian package dpdk)"; exit 77; }
pin=()
cpu=${PIN_CPU-0}
[ -n "$cpu" ] && command -v taskset >/dev/null && pin=(taskset -c "$cpu")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pcnet-testpmd.XXXXXX")
vsock=$tmp/vhost.sock dsock=$tmp/dev.sock
prefix=pcnet-testpmd-$$
pmd_pid='' vmm_pid='' dev_pid=''

cleanup() {
	[ -n "$dev_pid" ] && kill -9 "$dev_pid" 2>/dev/null
	[ -n "$vmm_pid" ] && kill "$vmm_pid" 2>/dev/null
	[ -n "$pmd_pid" ] && kill "$pmd_pid" 2>/dev/null
	exec 3>&- 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show() {
	echo "--- guest console"; cat "$tmp/console"
	echo "--- vmm-core stderr"; cat "$tmp/vmm.err"
	echo "--- dev-pcnet stderr"; cat "$tmp/dev.err"
	echo "--- testpmd"; tail -n 60 "$tmp/pmd.out"
}
die() { echo "FAIL: $*" >&2; show; exit 1; }

# testpmd reads its commands from a FIFO we hold open.
mkfifo "$tmp/pmd.in"
timeout 300 "$testpmd" --no-huge -m 512 --no-pci -l 0,1 \
	--vdev "net_vhost0,iface=$vsock,client=0" --file-prefix="$prefix" \
	--log-level=lib.eal:error -- -i --forward-mode=macswap \
	--port-topology=loop --nb-cores=1 --total-num-mbufs=8192 \
	<"$tmp/pmd.in" >"$tmp/pmd.out" 2>&1 &
pmd_pid=$!
exec 3>"$tmp/pmd.in"
for _ in $(seq 600); do
	[ -S "$vsock" ] && break
	kill -0 "$pmd_pid" 2>/dev/null || die "testpmd exited before creating $vsock"
	sleep 0.05
done
[ -S "$vsock" ] || die "testpmd did not create $vsock within 30 s (its EAL start-up can take over 10 s on a loaded machine)"
echo start >&3

timeout 240 "${pin[@]}" "$vmm" --kernel "$elf" \
	--cmdline "test=pcnet-wire frames=$frames window=$window $guest_args" --memory 64 \
	--device-sock "$dsock" --verbose </dev/null >"$tmp/console" 2>"$tmp/vmm.err" &
vmm_pid=$!
for _ in $(seq 100); do
	[ -S "$dsock" ] && break
	kill -0 "$vmm_pid" 2>/dev/null || die "vmm-core exited before creating $dsock"
	sleep 0.05
done
[ -S "$dsock" ] || die "vmm-core did not create $dsock within 5 s"
"${pin[@]}" "$dev" --connect "$dsock" --backend "$vsock" </dev/null 2>"$tmp/dev.err" &
dev_pid=$!

wait "$vmm_pid"
status=$?
vmm_pid=''
[ "$status" = 0 ] || die "vmm-core exit status $status, expected 0"
grep -qF "TEST PASS pcnet-wire" "$tmp/console" || die "no 'TEST PASS pcnet-wire'"
line=$(grep -F 'frames sent (' "$tmp/console")
read -r sent bytes completed back back_bytes filtered < <(printf '%s\n' "$line" |
	sed -n 's/.*: \([0-9]*\) frames sent (\([0-9]*\) bytes), \([0-9]*\) completed, \([0-9]*\) back byte-exact (\([0-9]*\) bytes), \([0-9]*\) filtered.*/\1 \2 \3 \4 \5 \6/p')
[ "${sent:-}" = "$frames" ] && [ "$completed" = "$frames" ] &&
	[ "$((back + filtered))" = "$frames" ] ||
	die "guest counts '$line', expected $frames sent and back or filtered"
for _ in $(seq 100); do
	kill -0 "$dev_pid" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$dev_pid" 2>/dev/null && die "dev-pcnet still runs 5 s after vmm-core exited"
wait "$dev_pid"
status=$?
dev_pid=''
[ "$status" = 0 ] || die "dev-pcnet exit status $status after vmm-core closed, expected 0"
fe=$(grep -F 'dev-pcnet: vhost-user:' "$tmp/dev.err")
moved=$(printf '%s\n' "$fe" | sed -n 's/.* \([0-9]*\) moved.*/\1/p')
if [ -z "$guest_args" ] && [ "${moved:-x}" != 0 ]; then
	die "dev-pcnet moved ${moved:-?} frames itself, expected all in place: $fe"
fi

# The peer's view: what it received is what the guest sent, and back.
echo "show port stats 0" >&3
for _ in $(seq 100); do
	grep -q 'TX-packets' "$tmp/pmd.out" && break
	sleep 0.05
done
echo quit >&3
for _ in $(seq 200); do
	kill -0 "$pmd_pid" 2>/dev/null || break
	sleep 0.05
done
stats=$(sed -n '/NIC statistics for port 0/,/####/p' "$tmp/pmd.out")
rxp=$(printf '%s\n' "$stats" | sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' | head -n1)
rxb=$(printf '%s\n' "$stats" | sed -n 's/.*RX-bytes: *\([0-9]*\).*/\1/p' | head -n1)
txp=$(printf '%s\n' "$stats" | sed -n 's/.*TX-packets: *\([0-9]*\).*/\1/p' | head -n1)
txb=$(printf '%s\n' "$stats" | sed -n 's/.*TX-bytes: *\([0-9]*\).*/\1/p' | head -n1)
[ "$rxp" = "$frames" ] && [ "$txp" = "$frames" ] ||
	die "testpmd port 0: RX-packets ${rxp:-?} TX-packets ${txp:-?}, guest sent $frames"
[ "$rxb" = "$bytes" ] && [ "$txb" = "$bytes" ] ||
	die "testpmd port 0: RX-bytes ${rxb:-?} TX-bytes ${txb:-?}, guest sent $bytes"
show
echo "PASS pcnet-wire through testpmd: $frames frames, $bytes bytes each way, $back back, $filtered filtered, counts match"
echo "$fe"
grep -F 'bench:' "$tmp/console"
