#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The guest's network scenarios against a host in a network namespace made
# here, through a TAP:
#
#   net-e2e.sh qemu SCENARIO ELF
#       the reference: QEMU's own -device pcnet with its TAP backend
#   net-e2e.sh splitvmm SCENARIO ELF VMM DEV-PCNET DEV-NET-BACKEND
#       vmm-core + dev-pcnet + dev-net-backend --host tap:...
#
#   SCENARIO: ping | udp-echo | udp-send | multicast
#
# The namespace holds the TAP (10.77.0.1/24; the guest is 10.77.0.2) and
# every process of the test; traffic never leaves it.  Root only (77
# otherwise).  Every wait is bounded; the namespace and every process are
# removed on exit.
set -u
mode=${1:-} scenario=${2:-} elf=${3:-}
[ -n "$mode" ] && [ -n "$scenario" ] && [ -n "$elf" ] ||
	{ echo "usage: $0 qemu|splitvmm SCENARIO ELF [VMM DEV-PCNET DEV-NET-BACKEND]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
elf=$(realpath "$elf")
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, TAP)"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: no ip(8) (apt-get install iproute2)"; exit 77; }
host_ip=10.77.0.1 guest_ip=10.77.0.2 tap=svtap0
ns=splitvmm-e2e-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/net-e2e.XXXXXX")
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	# Everything started here names a path under $tmp; a wrapper killed
	# too early must not leave its child behind.
	pkill -TERM -f "$tmp/" 2>/dev/null
	sleep 0.3
	pkill -KILL -f "$tmp/" 2>/dev/null
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() {
	echo "FAIL: $*" >&2
	for f in "$tmp"/*.log; do [ -e "$f" ] && { echo "--- $(basename "$f")"; cat "$f"; }; done
	exit 1
}
in_ns() { ip netns exec "$ns" "$@"; }

ip netns add "$ns" || die "ip netns add $ns"
in_ns ip link set lo up

case $scenario in
ping) cmdline="test=ping ip=$guest_ip peer=$host_ip count=10 arp_ms=10000" ;;
udp-echo) cmdline="test=udp-echo ip=$guest_ip peer=$host_ip port=7 count=200 ms=30000" ;;
udp-send) cmdline="test=udp-send ip=$guest_ip peer=$host_ip port=9 bytes=4000000 size=1472" ;;
multicast) cmdline="test=multicast ip=$guest_ip peer=$host_ip join=239.1.1.1 port=4950 ms=20000" ;;
*) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac

case $mode in
qemu)
	command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64"; exit 77; }
	# TCG: QEMU's KVM path fails on this project's PVM hosts (MSR 0x10a).
	in_ns timeout 120 qemu-system-x86_64 -machine pc -accel tcg -cpu max -m 64 \
		-display none -monitor none -serial stdio -no-reboot -nodefaults \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-netdev tap,id=n0,ifname=$tap,script=no,downscript=no \
		-device pcnet,netdev=n0,romfile= \
		-kernel "$elf" -append "$cmdline" </dev/null >"$tmp/guest.log" 2>&1 &
	guest_pid=$!
	pids+=("$guest_pid")
	;;
splitvmm)
	vmm=$(realpath "$4") pcnet=$(realpath "$5") backend=$(realpath "$6")
	[ -e /dev/kvm ] || { echo "SKIP: no /dev/kvm"; exit 77; }
	start_vmm() {
		in_ns timeout 120 "$vmm" --kernel "$elf" --cmdline "$cmdline" --memory 64 \
			--device-sock "$tmp/pcnet.sock" --verbose </dev/null >"$tmp/guest.log" 2>"$tmp/vmm.log" &
		guest_pid=$!
		pids+=("$guest_pid")
	}
	start_backend() {
		in_ns timeout 130 "$backend" --vhost-user "$tmp/backend.sock" --server \
			--host "tap:$tap" </dev/null >"$tmp/backend.log" 2>&1 &
		pids+=($!)
	}
	start_pcnet() {	# it retries both connects: any start order works
		in_ns timeout 130 "$pcnet" --connect "$tmp/pcnet.sock" --backend "$tmp/backend.sock" \
			</dev/null >"$tmp/dev-pcnet.log" 2>&1 &
		pids+=($!)
	}
	# NET_E2E_ORDER: the three processes in another order (issue 6: any).
	case ${NET_E2E_ORDER:-normal} in
	normal)
		start_vmm; start_backend
		for _ in $(seq 100); do [ -S "$tmp/pcnet.sock" ] && [ -S "$tmp/backend.sock" ] && break; sleep 0.05; done
		start_pcnet ;;
	backend-last)	# the guest runs before the host side exists
		start_vmm; start_pcnet; sleep 1.5; start_backend ;;
	device-first)	# dev-pcnet waits for both sockets
		start_pcnet; sleep 1; start_backend; sleep 0.5; start_vmm ;;
	*) echo "NET_E2E_ORDER: normal, backend-last or device-first" >&2; exit 2 ;;
	esac
	;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac

# The sink listens before the guest can reach the host (it binds any
# address: the TAP's comes later), so no datagram finds the port closed.
if [ "$scenario" = udp-send ]; then
	in_ns timeout 60 python3 "$here/net-peer.py" sink 0.0.0.0 9 4000000 40 >"$tmp/peer.log" 2>&1 &
	peer_pid=$!
	sleep 0.3
fi
for _ in $(seq 200); do in_ns ip link show $tap >/dev/null 2>&1 && break; sleep 0.05; done
in_ns ip link show $tap >/dev/null 2>&1 || die "no $tap in the namespace after 10 s"
in_ns ip addr add $host_ip/24 dev $tap
in_ns ip link set $tap up

peer_rc=0
case $scenario in
udp-echo)
	in_ns timeout 60 python3 "$here/net-peer.py" echo $host_ip $guest_ip 7 200 >"$tmp/peer.log" 2>&1 || peer_rc=$?
	;;
multicast)
	in_ns timeout 60 python3 "$here/net-peer.py" mcast $host_ip 4950 239.1.1.1 20 50 >"$tmp/peer.log" 2>&1 || peer_rc=$?
	;;
esac
wait "$guest_pid"
status=$?
[ "$scenario" = udp-send ] && { wait "$peer_pid" || peer_rc=$?; }
cat "$tmp/guest.log"
[ -e "$tmp/peer.log" ] && cat "$tmp/peer.log"
[ "$status" = 0 ] || die "guest ended with status $status"
grep -q "TEST PASS $scenario" "$tmp/guest.log" || die "no TEST PASS $scenario"
[ "$peer_rc" = 0 ] || die "the host side failed"
echo "PASS $scenario on $mode"
