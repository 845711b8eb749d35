#!/bin/bash
# SPDX-License-Identifier: MIT
#
# dev-net-backend between DPDK's vhost-user front-end and an AF_XDP socket:
#
#   backend-testpmd-afxdp.sh DEV-NET-BACKEND PKTIO [auto|copy|zerocopy]
#
# In a network namespace of its own (deleted on exit), a veth pair xa/xb;
# dev-net-backend listens on a vhost-user socket with --host af-xdp:xa
# (mode auto unless given), dpdk-testpmd drives it through net_virtio_user
# (interactive, commands fed through a fifo one phase at a time):
#
#   host -> guest: testpmd in rxonly; pktio sends N frames on xb; xb's
#                  tx_packets, the backend's rxq frames and testpmd's
#                  RX-packets must all be N;
#   guest -> host: testpmd in txonly for a few seconds; its TX-packets must
#                  be the backend's txq frames plus the frames it counted
#                  as dropped (host, host_busy), and those must be what xb
#                  received plus what the veth dropped (xa's tx_dropped).
#                  Drops must stay under 1%.
#
# Afterwards no XDP program may be left on xa.  Prints the bind mode
# obtained and the txonly rate.  Needs root, dpdk-testpmd and AF_XDP in
# the kernel and in the build (exit 77 with the reason otherwise).  Every
# process runs under timeout; traffic never leaves the namespace.
set -u
# shellcheck source=../lib-testpmd.sh
. "$(dirname "$0")/../lib-testpmd.sh"

[ $# -ge 2 ] || { echo "usage: $0 DEV-NET-BACKEND PKTIO [MODE]" >&2; exit 2; }
backend=$(realpath "$1") pktio=$(realpath "$2") mode=${3:-auto}
N=${BACKEND_TEST_FRAMES:-2000}
TX_SECONDS=${BACKEND_TEST_TX_SECONDS:-2}

[ "$(id -u)" = 0 ] || skip "needs root (network namespace, AF_XDP, XDP)"
testpmd=$(command -v dpdk-testpmd) ||
	skip "dpdk-testpmd is missing (apt-get install dpdk)"
command -v ip >/dev/null || skip "ip (iproute2) is missing"

ns=splitvmm-xdp-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/backend-afxdp.XXXXXX")
sock=$tmp/vhost.sock
be_pid='' tp_pid=''


cleanup() {
	exec 3>&- 2>/dev/null
	stop "$tp_pid"
	stop "$be_pid"
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null	# takes the veth pair with it
	rm -rf "$tmp" "/var/run/dpdk/xdp$$"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show() {
	echo "--- dev-net-backend stderr"; cat "$tmp/be.err"
	echo "--- dpdk-testpmd output (last 40 lines)"; tail -n 40 "$tmp/tp.out"
}
die() { echo "FAIL: $*" >&2; show; exit 1; }

ip netns add "$ns" || skip "cannot create a network namespace here"
# Quiet: no IPv6, no addresses, so every frame on the pair is the test's.
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1 >/dev/null
nsx ip link set lo up
nsx ip link add xa type veth peer name xb || skip "no veth here"
nsx ip link set xa up
nsx ip link set xb up



timeout -k 5 120 ip netns exec "$ns" "$backend" --vhost-user "$sock" \
	--host "af-xdp:xa,mode=$mode" --verbose \
	</dev/null >"$tmp/be.out" 2>"$tmp/be.err" &
be_pid=$!
for _ in $(seq 100); do
	[ -S "$sock" ] && break
	kill -0 "$be_pid" 2>/dev/null || break
	sleep 0.05
done
if ! [ -S "$sock" ]; then
	why=$(grep -m1 -e "has no AF_XDP" -e "built without AF_XDP" \
		-e "no zero-copy AF_XDP" "$tmp/be.err") && skip "${why#*: }"
	die "dev-net-backend did not create $sock"
fi
obtained=$(sed -n 's/.*host path af-xdp:xa,queue=0 (\(.*\))$/\1/p' "$tmp/be.err")
[ -n "$obtained" ] || die "no af-xdp host path in the start-up line"
echo "af-xdp bind (mode=$mode): $obtained"

mkfifo "$tmp/cmd"
timeout -k 5 90 ip netns exec "$ns" stdbuf -oL "$testpmd" \
	--no-huge -m 512 --no-pci -l 0,1 \
	--vdev "net_virtio_user0,path=$sock,queues=1" --file-prefix="xdp$$" \
	-- -i --total-num-mbufs=16384 <"$tmp/cmd" >"$tmp/tp.out" 2>&1 &
tp_pid=$!
exec 3>"$tmp/cmd"
cmd() { echo "$*" >&3; }

# -- host -> guest ----------------------------------------------------------
cmd "set fwd rxonly"
cmd "start"
wait_for "$tmp/tp.out" "rxonly packet forwarding" 1 30 ||
	die "testpmd did not start forwarding"
wait_for "$tmp/be.err" "virtqueue 0 enabled" 1 30 ||
	die "the backend's receive ring was not enabled"
sent_before=$(stat_of xb tx_packets)
nsx timeout 30 "$pktio" send xb "$N" 60 50000 ||
	die "pktio could not send on xb"
xb_sent=$(($(settle xb tx_packets) - sent_before))
cmd "stop"
cmd "show port stats all"
wait_for "$tmp/tp.out" "# NIC statistics for port 0 " 1 30 ||
	die "no port statistics from testpmd"

# -- guest -> host ----------------------------------------------------------
rx_before=$(stat_of xb rx_packets) drop_before=$(stat_of xa tx_dropped)
cmd "clear port stats all"
cmd "set fwd txonly"
cmd "start"
wait_for "$tmp/tp.out" "txonly packet forwarding" 1 30 ||
	die "testpmd did not start txonly"
t0=$(date +%s.%N)
sleep "$TX_SECONDS"
cmd "stop"
t1=$(date +%s.%N)
cmd "show port stats all"
wait_for "$tmp/tp.out" "# NIC statistics for port 0 " 2 30 ||
	die "no second port statistics from testpmd"
xb_rx=$(($(settle xb rx_packets) - rx_before))
veth_drop=$(($(stat_of xa tx_dropped) - drop_before))
cmd "quit"
wait "$tp_pid"
tp_status=$?
tp_pid=''
[ "$tp_status" = 0 ] || die "testpmd exit status $tp_status"

kill -TERM "$be_pid"
wait "$be_pid"
be_status=$?
be_pid=''
[ "$be_status" = 0 ] || die "dev-net-backend exit status $be_status"
nsx ip link show xa | grep -q "prog/xdp" &&
	die "an XDP program is still attached to xa: $(nsx ip link show xa)"

tp_rx=$(nic 1 RX-packets:) tp_tx=$(nic 2 TX-packets:)
be_rx=$(sed -n 's/.*rxq frames \([0-9]*\).*/\1/p' "$tmp/be.err" | tail -n1)
be_tx=$(sed -n 's/.*txq frames \([0-9]*\).*/\1/p' "$tmp/be.err" | tail -n1)
be_drop=$(sed -n 's/.*txq .* host \([0-9]*\) host_busy \([0-9]*\).*/\1 + \2/p' \
	"$tmp/be.err" | tail -n1)
be_drop=$((${be_drop:-x}))

echo "host -> guest: pktio sent $N, xb passed $xb_sent, backend rxq $be_rx, testpmd RX-packets $tp_rx"
echo "guest -> host: testpmd TX-packets $tp_tx, backend txq $be_tx (dropped $be_drop), xb rx_packets $xb_rx, veth dropped $veth_drop"
[ "$xb_sent" = "$N" ] || die "xb passed $xb_sent of $N frames"
[ "$be_rx" = "$N" ] || die "backend counted $be_rx of $N received frames"
[ "$tp_rx" = "$N" ] || die "testpmd received $tp_rx of $N frames"
{ [ -n "$tp_tx" ] && [ "$tp_tx" -gt 0 ]; } || die "testpmd sent nothing"
[ "$tp_tx" = $((be_tx + be_drop)) ] ||
	die "testpmd sent $tp_tx frames, the backend accounts for $((be_tx + be_drop))"
[ "$be_tx" = $((xb_rx + veth_drop)) ] ||
	die "backend sent $be_tx frames, xb received $xb_rx and the veth dropped $veth_drop"
[ $(((be_drop + veth_drop) * 100)) -lt "$tp_tx" ] ||
	die "$((be_drop + veth_drop)) of $tp_tx frames dropped (1% allowed)"
grep -q "virtqueue [0-9]* broken (" "$tmp/be.err" && die "a ring broke"
awk -v n="$xb_rx" -v a="$t0" -v b="$t1" -v m="$obtained" 'BEGIN {
	printf "txonly into AF_XDP (%s): %.0f frames/s (%d frames of 64 bytes in %.2f s)\n", m, n / (b - a), n, b - a }'
echo "PASS"
exit 0
