#!/bin/bash
# SPDX-License-Identifier: MIT
#
# dev-net-backend's dpdk host path between DPDK's vhost-user front-end and
# a net_tap port:
#
#   backend-testpmd-dpdk.sh DEV-NET-BACKEND PKTIO
#
# In a network namespace of its own (deleted on exit), dev-net-backend
# listens on a vhost-user socket with
#   --host "dpdk:--no-huge -m 256 --no-pci --vdev=net_tap0,iface=dt0 ..."
# so its EAL creates the TAP dt0 there and owns it through net_tap; the
# kernel side of dt0 is the "host interface" this test sends on and counts.
# (net_tap rather than net_af_packet on a veth: one interface, no peer to
# keep quiet, and dt0's kernel counters are exactly what the PMD wrote and
# read.)  dpdk-testpmd drives the back-end through net_virtio_user
# (interactive, commands fed through a fifo one phase at a time):
#
#   host -> guest: testpmd in rxonly; pktio sends N 60-byte and M 1514-byte
#                  frames on dt0; dt0's tx_packets, the backend's rxq
#                  frames and testpmd's RX-packets must all be N + M, and
#                  testpmd's RX-bytes their bytes;
#   guest -> host: testpmd in txonly (64-byte frames) for a few seconds,
#                  then 1514-byte frames for one; each time testpmd's
#                  TX-packets/-bytes must equal what dt0 received
#                  (rx_packets/rx_bytes), and the backend's txq frames
#                  their sum;
#   both ways:     testpmd in flowgen (transmitting flat out, receiving)
#                  while pktio sends N frames on dt0: all N must reach
#                  testpmd while flowgen still runs, and flowgen's frames
#                  must all reach dt0.
#
# Prints the txonly rate.  Two CPUs here: the backend's EAL runs on lcore
# 0, testpmd's forwarding lcore (the one that spins) on 1.  Needs root and
# dpdk-testpmd (exit 77 with the reason otherwise).  Every process runs
# under timeout; traffic never leaves the namespace.
set -u
# shellcheck source=../lib-testpmd.sh
. "$(dirname "$0")/../lib-testpmd.sh"

[ $# -ge 2 ] || { echo "usage: $0 DEV-NET-BACKEND PKTIO [built|absent]" >&2; exit 2; }
backend=$(realpath "$1") pktio=$(realpath "$2")
N=${BACKEND_TEST_FRAMES:-2000}
M=${BACKEND_TEST_BIG_FRAMES:-500}
BIG=1514
TX_SECONDS=${BACKEND_TEST_TX_SECONDS:-2}

[ "${3:-built}" = built ] ||
	skip "dev-net-backend was built without the DPDK path (no libdpdk-dev when meson ran)"
[ "$(id -u)" = 0 ] || skip "needs root (network namespace, TAP device)"
testpmd=$(command -v dpdk-testpmd) ||
	skip "dpdk-testpmd is missing (apt-get install dpdk)"
command -v ip >/dev/null || skip "ip (iproute2) is missing"
[ -c /dev/net/tun ] || skip "no /dev/net/tun (net_tap needs it)"

ns=splitvmm-nbd-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/backend-testpmd-dpdk.XXXXXX")
sock=$tmp/vhost.sock
be_prefix=nbdb$$ tp_prefix=nbdt$$
be_pid='' tp_pid=''


cleanup() {
	exec 3>&- 2>/dev/null
	stop "$tp_pid"
	stop "$be_pid"
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp" "/var/run/dpdk/$be_prefix" "/var/run/dpdk/$tp_prefix"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show() {
	echo "--- dev-net-backend stderr"; cat "$tmp/be.err"
	echo "--- dpdk-testpmd output (last 60 lines)"; tail -n 60 "$tmp/tp.out"
}
die() { echo "FAIL: $*" >&2; show; exit 1; }

ip netns add "$ns" || skip "cannot create a network namespace here"
# A quiet namespace: no IPv6 (no router solicitations, no MLD), no
# addresses, so every frame on dt0 is one of the test's.
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1 >/dev/null ||
	die "cannot turn IPv6 off in the namespace (sysctl)"
nsx ip link set lo up





timeout -k 5 150 ip netns exec "$ns" "$backend" --vhost-user "$sock" \
	--host "dpdk:--no-huge -m 256 --no-pci -l 0 --vdev=net_tap0,iface=dt0 --file-prefix=$be_prefix" \
	--verbose </dev/null >"$tmp/be.out" 2>"$tmp/be.err" &
be_pid=$!
# The EAL starts first (seconds under load), then the socket appears.
for _ in $(seq 600); do
	[ -S "$sock" ] && break
	kill -0 "$be_pid" 2>/dev/null || die "dev-net-backend exited early"
	sleep 0.05
done
[ -S "$sock" ] || die "dev-net-backend did not create $sock within 30 s"
grep -q "host path dpdk:port 0 (net_tap" "$tmp/be.err" ||
	die "the backend does not name its net_tap port"
nsx ip link show dt0 >/dev/null 2>&1 || die "no dt0 in the namespace"
# Room in dt0's queue for every injected frame: the count must not depend
# on how the two CPUs here are shared with testpmd's poller.
nsx ip link set dt0 txqueuelen $((N + M + 1000))

mkfifo "$tmp/cmd"
# Line-buffered, so the phases below can wait for what it prints.
timeout -k 5 120 ip netns exec "$ns" stdbuf -oL "$testpmd" \
	--no-huge -m 512 --no-pci -l 0,1 \
	--vdev "net_virtio_user0,path=$sock,queues=1" --file-prefix="$tp_prefix" \
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
rx_before=$(stat_of dt0 tx_packets)
nsx timeout 30 "$pktio" send dt0 "$N" 60 50000 ||
	die "pktio could not send on dt0"
nsx timeout 30 "$pktio" send dt0 "$M" "$BIG" 20000 ||
	die "pktio could not send $BIG-byte frames on dt0"
for _ in $(seq 100); do
	[ $(($(stat_of dt0 tx_packets) - rx_before)) -ge $((N + M)) ] && break
	sleep 0.05
done
tap_sent=$(($(settle dt0 tx_packets) - rx_before))
tap_dropped=$(stat_of dt0 tx_dropped)
# dt0 counts a frame when it is queued for the reader; the backend polls
# the port every millisecond: a moment for the last ones.
sleep 0.2
cmd "stop"
cmd "show port stats all"
wait_for "$tmp/tp.out" "# NIC statistics for port 0 " 1 30 ||
	die "no port statistics from testpmd"

# -- guest -> host ----------------------------------------------------------
# txonly: 64-byte frames, then BIG-byte ones.
txonly() {
	local secs=$1 blk=$2
	tx_before=$(stat_of dt0 rx_packets) txb_before=$(stat_of dt0 rx_bytes)
	cmd "clear port stats all"
	cmd "start"
	wait_for "$tmp/tp.out" "txonly packet forwarding" $((blk - 1)) 30 ||
		die "testpmd did not start txonly"
	t0=$(date +%s.%N)
	sleep "$secs"
	cmd "stop"
	t1=$(date +%s.%N)
	cmd "show port stats all"
	wait_for "$tmp/tp.out" "# NIC statistics for port 0 " "$blk" 30 ||
		die "no port statistics ($blk) from testpmd"
	tap_rx=$(($(settle dt0 rx_packets) - tx_before))
	tap_rxb=$(($(stat_of dt0 rx_bytes) - txb_before))
}
cmd "set fwd txonly"
txonly "$TX_SECONDS" 2
tap_rx2=$tap_rx tap_rxb2=$tap_rxb t0_2=$t0 t1_2=$t1
cmd "set txpkts $BIG"
txonly 1 3
tap_rx3=$tap_rx tap_rxb3=$tap_rxb

# -- both ways at once ------------------------------------------------------
# flowgen transmits flat out and receives too: the port must be polled
# while transmit keeps the backend busy.  Every frame pktio sends must
# reach testpmd while flowgen still runs (its statistics read meanwhile).
cmd "set txpkts 64"
cmd "set fwd flowgen"
sent_before=$(stat_of dt0 tx_packets) drop_before=$(stat_of dt0 tx_dropped)
tx_before=$(stat_of dt0 rx_packets) txb_before=$(stat_of dt0 rx_bytes)
cmd "clear port stats all"
cmd "start"
wait_for "$tmp/tp.out" "flowgen packet forwarding" 1 30 ||
	die "testpmd did not start flowgen"
sleep 0.5
nsx timeout 30 "$pktio" send dt0 "$N" 60 10000 ||
	die "pktio could not send on dt0 under flowgen"
blocks=3 during=0
for _ in $(seq 50); do
	blocks=$((blocks + 1))
	cmd "show port stats all"
	wait_for "$tmp/tp.out" "# NIC statistics for port 0 " "$blocks" 30 ||
		die "no port statistics ($blocks) from testpmd"
	during=$(nic "$blocks" RX-packets:)
	[ "$during" -ge "$N" ] && break
	sleep 0.2
done
cmd "stop"
blocks=$((blocks + 1))
cmd "show port stats all"
wait_for "$tmp/tp.out" "# NIC statistics for port 0 " "$blocks" 30 ||
	die "no port statistics ($blocks) from testpmd"
tap_rx4=$(($(settle dt0 rx_packets) - tx_before))
tap_rxb4=$(($(stat_of dt0 rx_bytes) - txb_before))
tap_sent4=$(($(stat_of dt0 tx_packets) - sent_before))
tap_dropped4=$(($(stat_of dt0 tx_dropped) - drop_before))

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

tp_rx=$(nic 1 RX-packets:) tp_rxb=$(nic 1 RX-bytes:)
tp_tx2=$(nic 2 TX-packets:) tp_txb2=$(nic 2 TX-bytes:)
tp_tx3=$(nic 3 TX-packets:) tp_txb3=$(nic 3 TX-bytes:)
tp_rx4=$(nic "$blocks" RX-packets:)
tp_tx4=$(nic "$blocks" TX-packets:) tp_txb4=$(nic "$blocks" TX-bytes:)
be_rx=$(sed -n 's/.*rxq frames \([0-9]*\).*/\1/p' "$tmp/be.err" | tail -n1)
be_tx=$(sed -n 's/.*txq frames \([0-9]*\).*/\1/p' "$tmp/be.err" | tail -n1)
host_line=$(grep "host dpdk:" "$tmp/be.err" | tail -n1)
want_rxb=$((N * 60 + M * BIG))

echo "host -> guest: pktio sent $N + $M, dt0 passed $tap_sent (dropped $tap_dropped), backend rxq $be_rx, testpmd RX-packets $tp_rx ($tp_rxb bytes of $want_rxb)"
echo "guest -> host: testpmd TX-packets $tp_tx2 ($tp_txb2 bytes) + $tp_tx3 ($tp_txb3 bytes), backend txq $be_tx, dt0 rx_packets $tap_rx2 ($tap_rxb2 bytes) + $tap_rx3 ($tap_rxb3 bytes)"
echo "both ways: testpmd flowgen TX-packets $tp_tx4 ($tp_txb4 bytes), dt0 rx_packets $tap_rx4 ($tap_rxb4 bytes); pktio sent $N meanwhile, dt0 passed $tap_sent4 (dropped $tap_dropped4), testpmd RX-packets $tp_rx4 ($during while flowgen ran)"
echo "${host_line#dev-net-backend: }"
[ "$tap_sent" = $((N + M)) ] || die "dt0 passed $tap_sent of $((N + M)) frames to the backend"
[ "$tp_rx" = $((N + M)) ] || die "testpmd received $tp_rx of $((N + M)) frames"
[ "$tp_rxb" = "$want_rxb" ] || die "testpmd received $tp_rxb bytes, dt0 passed $want_rxb"
[ "$be_rx" = $((2 * N + M)) ] || die "backend counted $be_rx of $((2 * N + M)) received frames"
[ -n "$tp_tx2" ] && [ "$tp_tx2" -gt 0 ] || die "testpmd sent nothing"
[ -n "$tp_tx3" ] && [ "$tp_tx3" -gt 0 ] || die "testpmd sent no $BIG-byte frames"
[ "$tp_txb3" = $((tp_tx3 * BIG)) ] || die "testpmd's second txonly was not $BIG-byte frames"
[ "$tp_tx2" = "$tap_rx2" ] || die "testpmd sent $tp_tx2 frames, dt0 received $tap_rx2"
[ "$tp_txb2" = "$tap_rxb2" ] || die "testpmd sent $tp_txb2 bytes, dt0 received $tap_rxb2"
[ "$tp_tx3" = "$tap_rx3" ] || die "testpmd sent $tp_tx3 $BIG-byte frames, dt0 received $tap_rx3"
[ "$tp_txb3" = "$tap_rxb3" ] || die "testpmd sent $tp_txb3 bytes, dt0 received $tap_rxb3"
[ "$tap_dropped4" = 0 ] && [ "$tap_sent4" = "$N" ] ||
	die "under flowgen dt0 passed $tap_sent4 of $N frames, dropped $tap_dropped4"
[ "$during" = "$N" ] ||
	die "while flowgen ran testpmd received $during of $N frames (receive starved by transmit?)"
[ "$tp_rx4" = "$N" ] || die "under flowgen testpmd received $tp_rx4 of $N frames"
[ -n "$tp_tx4" ] && [ "$tp_tx4" -gt 0 ] || die "flowgen sent nothing"
[ "$tp_tx4" = "$tap_rx4" ] || die "flowgen sent $tp_tx4 frames, dt0 received $tap_rx4"
[ "$tp_txb4" = "$tap_rxb4" ] || die "flowgen sent $tp_txb4 bytes, dt0 received $tap_rxb4"
[ "$be_tx" = $((tp_tx2 + tp_tx3 + tp_tx4)) ] ||
	die "backend counted $be_tx transmitted frames, testpmd $((tp_tx2 + tp_tx3 + tp_tx4))"
grep -q "virtqueue [0-9]* broken (" "$tmp/be.err" && die "a ring broke"
awk -v n="$tp_tx2" -v a="$t0_2" -v b="$t1_2" 'BEGIN {
	printf "txonly into net_tap: %.0f frames/s (%d frames of 64 bytes in %.2f s)\n", n / (b - a), n, b - a }'
echo "PASS"
exit 0
