#!/bin/bash
# SPDX-License-Identifier: MIT
#
# dev-net-backend in client mode: it connects to dpdk-testpmd's
# net_virtio_user in server mode (server=1), and when testpmd goes away it
# reconnects, with backoff, to the next testpmd on the same path.
#
#   backend-testpmd-client.sh DEV-NET-BACKEND [reconnect|restart]
#
# reconnect (the default): starts the backend first (nothing listens yet:
#   it must keep retrying), then ROUNDS testpmd processes one after the
#   other, each in txonly for a second.  Every frame testpmd counted as
#   sent must be on vt0 or in the backend's discarded-on-a-disabled-ring
#   count; the backend must have connected once per round and exit 0 on
#   SIGTERM.
# restart: one testpmd in txonly throughout; the backend is killed with
#   SIGKILL mid-traffic and a new one started: testpmd reconnects it (base
#   0, rings where they were), traffic resumes on the new vt0 with no ring
#   broken, and what the new backend sent is what vt0 received.
#
# Needs root and dpdk-testpmd (77 otherwise); its own network namespace,
# deleted on exit.
set -u
# shellcheck source=lib-testpmd.sh
. "$(dirname "$0")/lib-testpmd.sh"

[ $# -ge 1 ] || { echo "usage: $0 DEV-NET-BACKEND [reconnect|restart]" >&2; exit 2; }
backend=$(realpath "$1") mode=${2:-reconnect}
ROUNDS=${BACKEND_TEST_ROUNDS:-3}

[ "$(id -u)" = 0 ] || skip "needs root (network namespace, TAP device)"
testpmd=$(command -v dpdk-testpmd) ||
	skip "dpdk-testpmd is missing (apt-get install dpdk)"
command -v ip >/dev/null || skip "ip (iproute2) is missing"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

ns=splitvmm-nbc-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/backend-client.XXXXXX")
sock=$tmp/vhost.sock
be_pid='' tp_pid=''


cleanup() {
	exec 3>&- 2>/dev/null
	stop "$tp_pid"
	stop "$be_pid"
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp" "/var/run/dpdk/nbc$$"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show() {
	echo "--- dev-net-backend stderr"; cat "$tmp/be.err"
	echo "--- dpdk-testpmd output (last 40 lines)"; tail -n 40 "$tmp/tp.out"
}
die() { echo "FAIL: $*" >&2; show; exit 1; }


ip netns add "$ns" || skip "cannot create a network namespace here"
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1 >/dev/null

start_backend() {
	timeout -k 5 120 ip netns exec "$ns" "$backend" --vhost-user "$sock" \
		--client --reconnect-max-ms 300 --host tap:vt0 --verbose \
		</dev/null >"$tmp/be.out" 2>"$tmp/be.err" &
	be_pid=$!
}

start_testpmd() {
	rm -f "$tmp/cmd"
	mkfifo "$tmp/cmd"
	: >"$tmp/tp.out"
	timeout -k 5 60 ip netns exec "$ns" stdbuf -oL "$testpmd" \
		--no-huge -m 512 --no-pci -l 0,1 \
		--vdev "net_virtio_user0,path=$sock,queues=1,server=1" \
		--file-prefix="nbc$$" -- -i --total-num-mbufs=16384 \
		<"$tmp/cmd" >"$tmp/tp.out" 2>&1 &
	tp_pid=$!
	exec 3>"$tmp/cmd"
}

if [ "$mode" = restart ]; then
	start_testpmd
	start_backend
	echo "set fwd txonly" >&3
	echo "start" >&3
	wait_for "$tmp/tp.out" "txonly packet forwarding" 1 30 ||
		die "testpmd did not start (backend not connected?)"
	sleep 1
	before=$(stat_of vt0 rx_packets)
	[ "$before" -gt 0 ] || die "no traffic before the kill"
	# SIGKILL the backend itself (timeout's child), mid-traffic.
	victim=$(pgrep -P "$be_pid")
	[ -n "$victim" ] || die "cannot find the backend's pid"
	kill -KILL "$victim"
	wait "$be_pid" 2>/dev/null
	mv "$tmp/be.err" "$tmp/be-killed.err"
	start_backend
	wait_for "$tmp/be.err" "virtqueue 1 started" 1 30 ||
		die "testpmd did not reconnect the new backend"
	sleep 1
	after=$(stat_of vt0 rx_packets)
	echo "stop" >&3
	echo "show port stats all" >&3
	wait_for "$tmp/tp.out" "# NIC statistics for port 0 " 1 30 ||
		die "no port statistics"
	echo "quit" >&3
	exec 3>&-
	wait "$tp_pid"
	st=$?
	tp_pid=''
	[ "$st" = 0 ] || die "testpmd exit status $st"
	on_tap=$(stat_of vt0 rx_packets)
	stop "$be_pid"
	wait "$be_pid"
	be_status=$?
	be_pid=''
	[ "$be_status" = 0 ] || die "dev-net-backend exit status $be_status"
	be_tx=$(sed -n 's/.*txq frames \([0-9]*\).*/\1/p' "$tmp/be.err" | tail -n1)
	echo "before the kill: $before frames on vt0; new backend: $after after 1 s, $be_tx in all, vt0 received $on_tap"
	grep -q "virtqueue [0-9]* broken (" "$tmp/be.err" && die "a ring broke"
	[ "$after" -gt 0 ] || die "no traffic after the restart"
	[ "$be_tx" = "$on_tap" ] || die "backend sent $be_tx, vt0 received $on_tap"
	echo "PASS"
	exit 0
fi

start_backend
wait_for "$tmp/be.err" "retrying" 1 5 ||
	die "the backend did not report retrying to connect"
base=$(stat_of vt0 rx_packets)

sent=0
for r in $(seq "$ROUNDS"); do
	start_testpmd
	echo "set fwd txonly" >&3
	echo "start" >&3
	wait_for "$tmp/tp.out" "txonly packet forwarding" 1 30 ||
		die "round $r: testpmd did not start (backend not connected?)"
	sleep 1
	echo "stop" >&3
	echo "show port stats all" >&3
	wait_for "$tmp/tp.out" "# NIC statistics for port 0 " 1 30 ||
		die "round $r: no port statistics"
	echo "quit" >&3
	exec 3>&-
	wait "$tp_pid"
	st=$?
	tp_pid=''
	[ "$st" = 0 ] || die "round $r: testpmd exit status $st"
	n=$(awk '/# NIC statistics for port 0 / { b = 1 }
		 b && /TX-packets:/ { print $2; exit }' "$tmp/tp.out")
	[ -n "$n" ] && [ "$n" -gt 0 ] || die "round $r: testpmd sent nothing"
	echo "round $r: testpmd sent $n frames"
	sent=$((sent + n))
	rm -f "$sock"	# testpmd leaves it behind; the next one binds anew
done

wait_for "$tmp/be.err" "front-end disconnected" "$ROUNDS" 5 ||
	die "the backend did not see every front-end go"
on_tap=$(($(stat_of vt0 rx_packets) - base))
stop "$be_pid"
wait "$be_pid"
be_status=$?
be_pid=''
[ "$be_status" = 0 ] || die "dev-net-backend exit status $be_status"

conns=$(grep -c "front-end connected" "$tmp/be.err")
be_tx=$(sed -n 's/.*txq frames \([0-9]*\).*/\1/p' "$tmp/be.err" | tail -n1)
be_dis=$(sed -n 's/.*txq .* disabled \([0-9]*\).*/\1/p' "$tmp/be.err" | tail -n1)
echo "testpmd sent $sent in $ROUNDS connections; backend connected $conns times, sent $be_tx, discarded $be_dis on disabled rings; vt0 received $on_tap"
[ "$conns" = "$ROUNDS" ] || die "backend connected $conns times, not $ROUNDS"
[ "$be_tx" = "$on_tap" ] || die "backend sent $be_tx, vt0 received $on_tap"
[ $((be_tx + be_dis)) = "$sent" ] ||
	die "testpmd sent $sent, backend accounted for $((be_tx + be_dis))"
echo "PASS"
exit 0
