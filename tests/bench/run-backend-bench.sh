#!/bin/bash
# SPDX-License-Identifier: MIT
#
# dev-net-backend against DPDK's own vhost-user back-end (net_vhost), under
# the same traffic generator: dpdk-testpmd with net_virtio_user in txonly
# sends 64- and 1514-byte frames for a few seconds; what reaches the host
# side (the kernel's rx_packets on the host interface) is counted.  Per
# host path:
#
#   tap     ours --host tap:bt0            DPDK: net_vhost <-> net_tap (bt0)
#   af-xdp  ours --host af-xdp:bx0 (veth)  DPDK: net_vhost <-> net_af_xdp (bx0)
#   dpdk    ours --host dpdk:net_tap (bt0) DPDK: net_vhost <-> net_tap (bt0)
#
# DPDK's back-end is testpmd in io forwarding between its two ports, its
# forwarding lcore busy polling; ours runs as configured by default
# (sleeping on eventfds) and with --busy-poll.  The generator's forwarding
# lcore is on CPU 0, each back-end on CPU 1 (two CPUs here).
#
#   run-backend-bench.sh DEV-NET-BACKEND [SECONDS]
set -u
backend=$(realpath "$1") secs=${2:-3}
echo "vhost-user back-end benchmark, $(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -r)"
[ "$(id -u)" = 0 ] || { echo "needs root: nothing measured"; exit 0; }
testpmd=$(command -v dpdk-testpmd) || { echo "no dpdk-testpmd: nothing measured"; exit 0; }

ns=splitvmm-bb-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/backend-bench.XXXXXX")
pids=()
cleanup() {
	exec 3>&- 2>/dev/null
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.5
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp" /var/run/dpdk/bb$$-*
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$ns" || { echo "cannot make a network namespace"; exit 1; }
nsx() { ip netns exec "$ns" "$@"; }
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
nsx ip link set lo up
nsx ip link add bx0 type veth peer name bx1
nsx ip link set bx0 up
nsx ip link set bx1 up

# stop_all: ends the back-end and generator of one measurement (each is
# started as ip netns exec timeout ..., so $! is timeout, which passes the
# TERM on).
stop_all() {
	exec 3>&- 2>/dev/null
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for _ in $(seq 50); do
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	pids=()
	rm -f "$tmp/vhost.sock"
	# The kernel lets go of a TAP, an AF_XDP socket and its XDP program
	# a little after their process is gone: the next run needs them free.
	nsx ip link del bt0 2>/dev/null
	for _ in $(seq 50); do
		if ! nsx test -e /sys/class/net/bt0 &&
		   ! nsx ip link show bx0 | grep -q xdp; then
			break
		fi
		sleep 0.1
	done
	nsx ip link set dev bx0 xdp off 2>/dev/null
	sleep 0.5
}

# start_side PATH IMPL N [BACKEND-OPTS...]: the back-end of one run.
start_side() {
	local path=$1 impl=$2 n=$3
	shift 3
	if [ "$impl" = ours ]; then
		local spec
		case $path in
		tap) spec=tap:bt0 ;;
		af-xdp) spec=af-xdp:bx0 ;;
		dpdk) spec="dpdk:--no-huge -m 256 --no-pci --vdev=net_tap0,iface=bt0 -l 1 --file-prefix=bb$$-b$n --log-level=lib.eal:error" ;;
		esac
		ip netns exec "$ns" timeout -k 5 60 taskset -c 1 "$backend" --vhost-user "$tmp/vhost.sock" \
			--server --host "$spec" "$@" </dev/null >"$tmp/be$n.log" 2>&1 &
		pids+=($!)
	else
		local vdev
		case $path in
		tap|dpdk) vdev=net_tap0,iface=bt0 ;;
		af-xdp) vdev=net_af_xdp0,iface=bx0 ;;
		esac
		rm -f "$tmp/be$n.in"; mkfifo "$tmp/be$n.in"
		ip netns exec "$ns" timeout -k 5 60 "$testpmd" --no-huge -m 512 --no-pci -l 0,1 \
			--file-prefix=bb$$-b$n --log-level=lib.eal:error \
			--vdev "net_vhost0,iface=$tmp/vhost.sock" --vdev "$vdev" -- -i \
			--forward-mode=io --port-topology=paired --nb-cores=1 \
			--total-num-mbufs=16384 <"$tmp/be$n.in" >"$tmp/be$n.log" 2>&1 &
		pids+=($!)
		exec 4>"$tmp/be$n.in"
		echo start >&4
	fi
}

# measure PATH IMPL SIZE [BACKEND-OPTS...]: frames/s at the host side.
# Runs in a $(...) subshell: file names come from a counter on disk.
measure() {
	local path=$1 impl=$2 size=$3 ifc cnt n
	shift 3
	n=$(( $(cat "$tmp/n" 2>/dev/null || echo 0) + 1 ))
	echo "$n" >"$tmp/n"
	case $path in
	tap|dpdk) ifc=bt0 cnt=bt0 ;;
	af-xdp) ifc=bx0 cnt=bx1 ;;
	esac
	# The kernel may still hold the last run's AF_XDP socket or TAP for a
	# moment ("in use"): a back-end that fails to start is tried again.
	local try ok=
	for try in 1 2 3 4 5; do
		start_side "$path" "$impl" "$n" "$@"
		for _ in $(seq 600); do
			[ -S "$tmp/vhost.sock" ] && break
			kill -0 "${pids[0]}" 2>/dev/null || break
			sleep 0.05
		done
		sleep 0.3
		if [ -S "$tmp/vhost.sock" ] && kill -0 "${pids[0]}" 2>/dev/null &&
		   ! grep -q -e "Start ports failed" -e "failed to initialize" "$tmp/be$n.log"; then
			ok=1
			break
		fi
		stop_all
		sleep 1
	done
	[ -n "$ok" ] || { echo "failed(see-be$n.log)"; stop_all; return; }
	for _ in $(seq 100); do nsx test -e /sys/class/net/$cnt && break; sleep 0.05; done
	nsx ip link set "$ifc" up 2>/dev/null
	mkfifo "$tmp/gen$n.in"
	ip netns exec "$ns" timeout -k 5 60 "$testpmd" --no-huge -m 512 --no-pci -l 1,0 --main-lcore 1 \
		--file-prefix=bb$$-g$n --log-level=lib.eal:error \
		--vdev "net_virtio_user0,path=$tmp/vhost.sock,queues=1" -- -i \
		--forward-mode=txonly --txpkts="$size" --nb-cores=1 \
		--total-num-mbufs=16384 <"$tmp/gen$n.in" >"$tmp/gen$n.log" 2>&1 &
	pids+=($!)
	exec 3>"$tmp/gen$n.in"
	echo start >&3
	for _ in $(seq 400); do grep -q "txonly packet forwarding" "$tmp/gen$n.log" && break; sleep 0.05; done
	sleep 1	# ramp up
	local a b t0 t1
	a=$(nsx cat /sys/class/net/$cnt/statistics/rx_packets)
	t0=$(date +%s.%N)
	sleep "$secs"
	b=$(nsx cat /sys/class/net/$cnt/statistics/rx_packets)
	t1=$(date +%s.%N)
	exec 4>&- 2>/dev/null
	stop_all
	awk -v a="$a" -v b="$b" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.3f", (b - a) / (t1 - t0) / 1e6 }'
}

printf '%-8s %6s %18s %18s %22s %9s\n' "path" "frame" "DPDK net_vhost" "ours (default)" "ours (--busy-poll 50)" "ours/DPDK"
for path in tap af-xdp dpdk; do
	for size in 64 1514; do
		ref=$(measure $path dpdk $size)
		ours=$(measure $path ours $size)
		busy=$(measure $path ours $size --busy-poll 50)
		best=$(awk -v a="$ours" -v b="$busy" 'BEGIN { print (a > b) ? a : b }')
		ratio=$(awk -v a="$best" -v r="$ref" 'BEGIN { if (r > 0) printf "%.0f%%", 100 * a / r; else print "-" }')
		printf '%-8s %5sB %13s Mpps %13s Mpps %17s Mpps %9s\n' "$path" "$size" "$ref" "$ours" "$busy" "$ratio"
	done
done
echo "(frames/s reaching the host interface, guest -> host, ${secs} s each; the ratio takes ours at its better setting)"
