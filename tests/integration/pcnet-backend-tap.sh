#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The three processes end to end: guest -> dev-pcnet (vhost-user front-end)
# -> dev-net-backend (vhost-user back-end) -> a TAP, and back:
#
#   pcnet-backend-tap.sh VMM ELF DEV_PCNET DEV_NET_BACKEND [FRAMES [WINDOW]]
#
# In a network namespace of its own (deleted on exit) dev-net-backend
# serves a vhost-user socket with --host tap:vt0; a peer on vt0 (a few
# lines of Python on an AF_PACKET socket) swaps the MAC addresses of every
# 0x88b5 frame and sends it back, as testpmd's macswap does.  test=pcnet-wire
# checks every frame back byte-exact; the backend's and vt0's counters must
# agree with the guest's: FRAMES sent to the host, FRAMES back.  Needs root,
# /dev/kvm, /dev/net/tun and python3 (77 with the reason otherwise).
set -u

[ $# -ge 4 ] || { echo "usage: $0 VMM ELF DEV_PCNET DEV_NET_BACKEND [FRAMES [WINDOW]]" >&2; exit 2; }
vmm=$(realpath "$1") elf=$(realpath "$2") dev=$(realpath "$3") be=$(realpath "$4")
frames=${5:-2000} window=${6:-8}
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespace, TAP device)"
[ -e /dev/kvm ] || skip "no /dev/kvm here (device tests run vmm-core on this host)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null || skip "ip (iproute2) is missing"
command -v python3 >/dev/null || skip "python3 is missing (the peer on the TAP)"
pin=()
cpu=${PIN_CPU-0}
[ -n "$cpu" ] && command -v taskset >/dev/null && pin=(taskset -c "$cpu")

ns=splitvmm-fe-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pcnet-backend-tap.XXXXXX")
vsock=$tmp/vhost.sock dsock=$tmp/dev.sock
be_pid='' peer_pid='' vmm_pid='' dev_pid=''

stop() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
}

cleanup() {
	[ -n "$dev_pid" ] && kill -9 "$dev_pid" 2>/dev/null
	[ -n "$vmm_pid" ] && kill "$vmm_pid" 2>/dev/null
	stop "$peer_pid"
	stop "$be_pid"
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show() {
	echo "--- guest console"; cat "$tmp/console"
	echo "--- vmm-core stderr"; cat "$tmp/vmm.err"
	echo "--- dev-pcnet stderr"; cat "$tmp/dev.err"
	echo "--- dev-net-backend stderr"; cat "$tmp/be.err"
	echo "--- peer"; cat "$tmp/peer.err"
}
die() { echo "FAIL: $*" >&2; show; exit 1; }

ip netns add "$ns" || skip "cannot create a network namespace here"
nsx() { ip netns exec "$ns" "$@"; }
# A quiet namespace: no IPv6 chatter, so every frame on vt0 is the test's.
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1 >/dev/null

timeout -k 5 200 ip netns exec "$ns" "$be" --vhost-user "$vsock" \
	--host tap:vt0 </dev/null >"$tmp/be.out" 2>"$tmp/be.err" &
be_pid=$!
for _ in $(seq 100); do
	[ -S "$vsock" ] && break
	kill -0 "$be_pid" 2>/dev/null || die "dev-net-backend exited early"
	sleep 0.05
done
[ -S "$vsock" ] || die "dev-net-backend did not create $vsock within 5 s"
nsx ip link set vt0 up || die "no vt0 in the namespace"
nsx ip link set vt0 txqueuelen $((frames + 1000))

cat >"$tmp/peer.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
s.bind((sys.argv[1], 0))
print("ready", flush=True)
while True:
    data, addr = s.recvfrom(65535)
    if addr[2] == socket.PACKET_OUTGOING:
        continue
    s.send(data[6:12] + data[0:6] + data[12:])
EOF
timeout -k 5 200 ip netns exec "$ns" python3 "$tmp/peer.py" vt0 \
	>"$tmp/peer.out" 2>"$tmp/peer.err" &
peer_pid=$!
for _ in $(seq 100); do
	grep -q ready "$tmp/peer.out" 2>/dev/null && break
	sleep 0.05
done
grep -q ready "$tmp/peer.out" || die "the peer on vt0 did not start"

timeout 180 "${pin[@]}" "$vmm" --kernel "$elf" \
	--cmdline "test=pcnet-wire frames=$frames window=$window" --memory 64 \
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
read -r sent bytes back < <(printf '%s\n' "$line" |
	sed -n 's/.*: \([0-9]*\) frames sent (\([0-9]*\) bytes), [0-9]* completed, \([0-9]*\) back.*/\1 \2 \3/p')
[ "${sent:-}" = "$frames" ] && [ "$back" = "$frames" ] ||
	die "guest counts '$line', expected $frames sent and back"
for _ in $(seq 100); do
	kill -0 "$dev_pid" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$dev_pid" 2>/dev/null && die "dev-pcnet still runs 5 s after vmm-core exited"
wait "$dev_pid"
dev_pid=''

# The host's view: vt0 received what the guest sent, and sent it back.
rxp=$(nsx cat /sys/class/net/vt0/statistics/rx_packets)
rxb=$(nsx cat /sys/class/net/vt0/statistics/rx_bytes)
txp=$(nsx cat /sys/class/net/vt0/statistics/tx_packets)
[ "$rxp" = "$frames" ] && [ "$rxb" = "$bytes" ] ||
	die "vt0 received $rxp frames ($rxb bytes), the guest sent $frames ($bytes)"
[ "$txp" = "$frames" ] || die "vt0 sent $txp frames back, expected $frames"
stop "$be_pid"
be_pid=''
grep -q "txq frames $frames bytes $bytes" "$tmp/be.err" ||
	die "dev-net-backend's txq counters do not say $frames frames, $bytes bytes"
show
echo "PASS pcnet-wire through dev-net-backend and a TAP: $frames frames, $bytes bytes each way"
grep -F 'bench:' "$tmp/console"
grep -F 'dev-pcnet: vhost-user:' "$tmp/dev.err"
