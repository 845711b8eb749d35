#!/bin/bash
# SPDX-License-Identifier: MIT
#
# dev-net-backend between DPDK's vhost-user front-end and a TAP:
#
#   backend-testpmd-tap.sh DEV-NET-BACKEND PKTIO
#
# In a network namespace of its own (deleted on exit), dev-net-backend
# listens on a vhost-user socket with --host tap:vt0, and dpdk-testpmd
# drives it through net_virtio_user (interactive, commands fed through a
# fifo one phase at a time):
#
#   host -> guest: testpmd in rxonly; pktio sends N frames on vt0; testpmd's
#                  RX-packets, vt0's tx_packets and the backend's rxq
#                  frames must all be N;
#   guest -> host: testpmd in txonly for a few seconds; testpmd's
#                  TX-packets/-bytes must equal what vt0 received
#                  (rx_packets/rx_bytes) and the backend's txq frames.
#
# Prints the txonly rate into the TAP.  Needs root, /dev/net/tun and
# dpdk-testpmd (exit 77 with the reason otherwise).  Every process runs
# under timeout; traffic never leaves the namespace.
set -u
# shellcheck source=lib-testpmd.sh
. "$(dirname "$0")/lib-testpmd.sh"

[ $# -eq 2 ] || { echo "usage: $0 DEV-NET-BACKEND PKTIO" >&2; exit 2; }
backend=$(realpath "$1") pktio=$(realpath "$2")
N=${BACKEND_TEST_FRAMES:-2000}
TX_SECONDS=${BACKEND_TEST_TX_SECONDS:-2}

[ "$(id -u)" = 0 ] || skip "needs root (network namespace, TAP device)"
testpmd=$(command -v dpdk-testpmd) ||
	skip "dpdk-testpmd is missing (apt-get install dpdk)"
command -v ip >/dev/null || skip "ip (iproute2) is missing"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

ns=splitvmm-nb-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/backend-testpmd.XXXXXX")
sock=$tmp/vhost.sock
be_pid='' tp_pid=''


cleanup() {
	exec 3>&- 2>/dev/null
	stop "$tp_pid"
	stop "$be_pid"
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp" "/var/run/dpdk/nb$$"
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
# addresses, so every frame on vt0 is one of the test's.
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1 >/dev/null
nsx ip link set lo up




timeout -k 5 120 ip netns exec "$ns" "$backend" --vhost-user "$sock" \
	--host tap:vt0 --verbose </dev/null >"$tmp/be.out" 2>"$tmp/be.err" &
be_pid=$!
for _ in $(seq 100); do
	[ -S "$sock" ] && break
	kill -0 "$be_pid" 2>/dev/null || die "dev-net-backend exited early"
	sleep 0.05
done
[ -S "$sock" ] || die "dev-net-backend did not create $sock within 5 s"
nsx ip link show vt0 >/dev/null 2>&1 || die "no vt0 in the namespace"
# Room in vt0's queue for every injected frame: the count must not depend
# on how the two CPUs here are shared with testpmd's poller.
nsx ip link set vt0 txqueuelen $((N + 1000))

mkfifo "$tmp/cmd"
# Line-buffered, so the phases below can wait for what it prints.
timeout -k 5 90 ip netns exec "$ns" stdbuf -oL "$testpmd" \
	--no-huge -m 512 --no-pci -l 0,1 \
	--vdev "net_virtio_user0,path=$sock,queues=1" --file-prefix="nb$$" \
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
rx_before=$(stat_of vt0 tx_packets)
nsx timeout 30 "$pktio" send vt0 "$N" 60 50000 ||
	die "pktio could not send on vt0"
for _ in $(seq 100); do
	[ $(($(stat_of vt0 tx_packets) - rx_before)) -ge "$N" ] && break
	sleep 0.05
done
tap_sent=$(($(settle vt0 tx_packets) - rx_before))
tap_dropped=$(stat_of vt0 tx_dropped)
cmd "stop"
cmd "show port stats all"
wait_for "$tmp/tp.out" "# NIC statistics for port 0 " 1 30 ||
	die "no port statistics from testpmd"

# -- guest -> host ----------------------------------------------------------
tx_before=$(stat_of vt0 rx_packets) txb_before=$(stat_of vt0 rx_bytes)
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
tap_rx=$(($(settle vt0 rx_packets) - tx_before))
tap_rxb=$(($(stat_of vt0 rx_bytes) - txb_before))
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

tp_rx=$(nic 1 RX-packets:)
tp_tx=$(nic 2 TX-packets:) tp_txb=$(nic 2 TX-bytes:)
be_rx=$(sed -n 's/.*rxq frames \([0-9]*\).*/\1/p' "$tmp/be.err" | tail -n1)
be_tx=$(sed -n 's/.*txq frames \([0-9]*\).*/\1/p' "$tmp/be.err" | tail -n1)

echo "host -> guest: pktio sent $N, vt0 passed $tap_sent (dropped $tap_dropped), backend rxq $be_rx, testpmd RX-packets $tp_rx"
echo "guest -> host: testpmd TX-packets $tp_tx ($tp_txb bytes), backend txq $be_tx, vt0 rx_packets $tap_rx ($tap_rxb bytes)"
[ "$tap_sent" = "$N" ] || die "vt0 passed $tap_sent of $N frames to the backend"
[ "$tp_rx" = "$N" ] || die "testpmd received $tp_rx of $N frames"
[ "$be_rx" = "$N" ] || die "backend counted $be_rx of $N received frames"
[ -n "$tp_tx" ] && [ "$tp_tx" -gt 0 ] || die "testpmd sent nothing"
[ "$tp_tx" = "$tap_rx" ] || die "testpmd sent $tp_tx frames, vt0 received $tap_rx"
[ "$tp_txb" = "$tap_rxb" ] || die "testpmd sent $tp_txb bytes, vt0 received $tap_rxb"
[ "$be_tx" = "$tp_tx" ] || die "backend counted $be_tx transmitted frames, testpmd $tp_tx"
grep -q "virtqueue [0-9]* broken (" "$tmp/be.err" && die "a ring broke"
awk -v n="$tp_tx" -v a="$t0" -v b="$t1" 'BEGIN {
	printf "txonly into the TAP: %.0f frames/s (%d frames of 64 bytes in %.2f s)\n", n / (b - a), n, b - a }'
echo "PASS"
exit 0
