#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The guest's network scenarios against a host in a network namespace made
# here, through a TAP:
#
#   net-e2e.sh qemu SCENARIO ELF
#       the reference: QEMU's own -device pcnet with its TAP backend, under
#       TCG or (NET_E2E_QEMU_ACCEL=kvm) KVM
#   net-e2e.sh splitvmm SCENARIO ELF VMM DEV-PCNET DEV-NET-BACKEND
#       vmm-core + dev-pcnet + dev-net-backend, whose host path
#       NET_E2E_HOST names:
#         tap     --host tap:svtap0, the host's address on that TAP (default)
#         af-xdp  --host af-xdp:svxdp0 on one end of a veth pair, the
#                 host's address on the other end (svxdp1)
#         dpdk    --host dpdk:... with DPDK's net_tap vdev making svtap0
#         dpdk-null  --host dpdk:... with DPDK's net_null vdev (no-rx): a
#                 port that takes every frame and delivers none, no host
#                 kernel behind it; txbench only (svtap0 is an unattached
#                 TAP, and host_rx counts the frames the port took)
#
#   SCENARIO: ping | udp-echo | udp-send | multicast | rr, or serve: the
#   guest answers ARP, ping and UDP echo on port 7 until Ctrl-C, the
#   processes serve live counters (the quickstart's --keep)
#
#   rr: 8 s of guest-driven request/response (net-peer.py rr-server
#   echoes, and logs every datagram to $tmp/rr.log); the crash tests run
#   the same pair while killing the device processes
#
#   txbench: the guest transmits frames to nobody (tests/guest/scenarios/
#   txbench.c; NET_E2E_TXBENCH holds its arguments, e.g. "driver=batch
#   size=1514 frames=20000"); at its "ready" and "finished" marks the harness
#   writes NET_E2E_SNAP.before and .after, then sends the guest its
#   go-ahead (a byte on its console: go=serial), so a slow snapshot makes
#   the guest wait rather than count part of the run: the time (wall_ns), the host's
#   steal time (steal_ticks), the host
#   interface's rx_packets, each process's utime+stime in clock ticks
#   and, on splitvmm, every
#   process's live counters (tests/bench/run-table3.sh reads them)
#
# NET_E2E_VMM_OPTS, NET_E2E_PCNET_OPTS, NET_E2E_BACKEND_OPTS: more options
# for vmm-core, dev-pcnet, dev-net-backend (word lists; the benchmarks'
# switches).  NET_E2E_VMM_CPUS, NET_E2E_DEV_CPUS: taskset CPU lists for
# vmm-core and for the two device processes (QEMU takes the first).
#
# NET_E2E_STATS=1 (udp-echo only): every process also serves its live
# counters (--stats-sock); once the peer is done, while the VM still
# runs, 'vmm-core stats' must show the traffic in each of them.
#
# NET_E2E_CAPTURE=1 (udp-echo only): dumpcap records the host's side of
# the wire and dev-net-backend its own (--pcap); the echo frames must be
# the same bytes in both, each way (pcap-compare.py), and tshark must
# read the back-end's file.
#
# The namespace holds the TAP (10.77.0.1/24; the guest is 10.77.0.2) and
# every process of the test; traffic never leaves it.  Root only (77
# otherwise).  Every wait is bounded; the namespace and every process are
# removed on exit.
# shellcheck disable=SC2086 # NET_E2E_*_OPTS are option lists
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
	rm -rf "$tmp" "/var/run/dpdk/splitvmm-e2e-$$"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() {
	echo "FAIL: $*" >&2
	for f in "$tmp"/*.log; do [ -e "$f" ] && { echo "--- $(basename "$f")"; cat "$f"; }; done
	exit 1
}
in_ns() { ip netns exec "$ns" "$@"; }

pin_vmm=() pin_dev=()
[ -n "${NET_E2E_VMM_CPUS:-}" ] && pin_vmm=(taskset -c "$NET_E2E_VMM_CPUS")
[ -n "${NET_E2E_DEV_CPUS:-}" ] && pin_dev=(taskset -c "$NET_E2E_DEV_CPUS")
ip netns add "$ns" || die "ip netns add $ns"
in_ns ip link set lo up

t_vm=120 t_dev=130	# every process is bounded
# The guest's console input: nothing, but txbench's go-ahead bytes.  The
# FIFO is held open read-write here, so opening it does not block and the
# guest's console never reads EOF.
guest_in=/dev/null
if [ "$scenario" = txbench ]; then
	mkfifo "$tmp/console.in" || die "mkfifo $tmp/console.in"
	exec {console_in}<>"$tmp/console.in"
	guest_in=$tmp/console.in
fi
case $scenario in
ping) cmdline="test=ping ip=$guest_ip peer=$host_ip count=10 arp_ms=10000" ;;
udp-echo) cmdline="test=udp-echo ip=$guest_ip peer=$host_ip port=7 count=200 ms=30000"
	[ -n "${NET_E2E_STATS:-}" ] && cmdline="$cmdline quiet_ms=5000" ;;
udp-send) cmdline="test=udp-send ip=$guest_ip peer=$host_ip port=9 bytes=4000000 size=1472" ;;
serve) cmdline="test=udp-echo ip=$guest_ip peer=$host_ip port=7 count=0 ms=0"
	NET_E2E_STATS=1 t_vm=0 t_dev=0 ;;	# timeout 0: none
multicast) cmdline="test=multicast ip=$guest_ip peer=$host_ip join=239.1.1.1 port=4950 ms=20000" ;;
txbench) cmdline="test=txbench ip=$guest_ip peer=$host_ip ${NET_E2E_TXBENCH:-} go=serial"
	NET_E2E_STATS=1 ;;
rr) cmdline="test=rr ip=$guest_ip peer=$host_ip port=7 ms=8000 timeout_ms=20 ping_every=16 stall_ms=5000 canary_kib=1024 arp_ms=10000" ;;
*) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac

case $mode in
qemu)
	command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64"; exit 77; }
	# NET_E2E_QEMU_ACCEL: tcg (default) or kvm.  With KVM the CPU model
	# leaves out ARCH_CAPABILITIES: QEMU's write of MSR 0x10a fails on
	# this project's PVM hosts and it aborts.
	case ${NET_E2E_QEMU_ACCEL:-tcg} in
	tcg) accel=(-accel tcg -cpu max) ;;
	kvm) [ -e /dev/kvm ] || { echo "SKIP: no /dev/kvm for NET_E2E_QEMU_ACCEL=kvm"; exit 77; }
		accel=(-accel kvm -cpu host,-arch-capabilities) ;;
	*) echo "NET_E2E_QEMU_ACCEL: tcg or kvm" >&2; exit 2 ;;
	esac
	in_ns timeout 120 "${pin_vmm[@]}" qemu-system-x86_64 -machine pc "${accel[@]}" -m 64 \
		-display none -monitor none -serial stdio -no-reboot -nodefaults \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-netdev tap,id=n0,ifname=$tap,script=no,downscript=no \
		-device pcnet,netdev=n0,romfile= \
		-name "$tmp/qemu.marker" -kernel "$elf" -append "$cmdline" <"$guest_in" >"$tmp/guest.log" 2>&1 &
	guest_pid=$!
	pids+=("$guest_pid")
	;;
splitvmm)
	vmm=$(realpath "$4") pcnet=$(realpath "$5") backend=$(realpath "$6")
	[ -e /dev/kvm ] || { echo "SKIP: no /dev/kvm"; exit 77; }
	st_vmm=() st_pcnet=() st_backend=()
	if [ -n "${NET_E2E_CAPTURE:-}" ]; then
		command -v dumpcap >/dev/null && command -v tshark >/dev/null ||
			{ echo "SKIP: no dumpcap/tshark (apt-get install tshark)"; exit 77; }
		st_backend=(--pcap "$tmp/backend.pcap")
	fi
	if [ -n "${NET_E2E_STATS:-}" ]; then
		st_vmm=(--stats-sock "$tmp/vmm.stats")
		st_pcnet=(--stats-sock "$tmp/pcnet.stats")
		st_backend+=(--stats-sock "$tmp/backend.stats")
	fi
	# NET_E2E_SANDBOX=1: all three processes in their sandboxes
	# (ipc/sandbox.h; crash-e2e.sh tests --user).
	if [ -n "${NET_E2E_SANDBOX:-}" ]; then
		st_vmm+=(--sandbox) st_pcnet+=(--sandbox) st_backend+=(--sandbox)
	fi
	start_vmm() {
		in_ns timeout "$t_vm" "${pin_vmm[@]}" "$vmm" --kernel "$elf" --cmdline "$cmdline" --memory 64 \
			--device-sock "$tmp/pcnet.sock" "${st_vmm[@]}" ${NET_E2E_VMM_OPTS:-} --verbose <"$guest_in" >"$tmp/guest.log" 2>"$tmp/vmm.log" &
		guest_pid=$!
		pids+=("$guest_pid")
	}
	sup=()
	if [ "$scenario" = serve ]; then
		# Device processes under the supervisor: kill one, it comes
		# back.  The TAP is persistent so a new back-end finds it with
		# its address.
		sup=("$here/../../deploy/supervise.sh" --)
		[ "${NET_E2E_HOST:-tap}" = tap ] && in_ns ip tuntap add dev $tap mode tap
	fi
	case ${NET_E2E_HOST:-tap} in
	tap) host_spec=tap:$tap ;;
	af-xdp)
		# The guest's side of the wire is svxdp0 (AF_XDP), the host's
		# address sits on its peer.
		in_ns ip link add svxdp0 type veth peer name svxdp1 ||
			die "cannot make a veth pair in the namespace"
		in_ns ip link set svxdp0 up
		# AF_XDP frames carry no offload metadata: the host must put
		# real checksums in what it sends (a veth leaves them to
		# "hardware" otherwise).
		command -v ethtool >/dev/null || { echo "SKIP: no ethtool (apt-get install ethtool)"; exit 77; }
		in_ns ethtool -K svxdp1 tx off >/dev/null ||
			die "ethtool -K svxdp1 tx off failed"
		host_spec=af-xdp:svxdp0 tap=svxdp1 ;;
	dpdk)
		host_spec="dpdk:--no-huge -m 256 --no-pci --vdev=net_tap0,iface=$tap --file-prefix=splitvmm-e2e-$$ -l 1 --log-level=lib.eal:error" ;;
	dpdk-null)
		[ "$scenario" = txbench ] || { echo "NET_E2E_HOST=dpdk-null: txbench only (nothing comes back)" >&2; exit 2; }
		in_ns ip tuntap add dev $tap mode tap
		host_spec="dpdk:--no-huge -m 256 --no-pci --vdev=net_null0,no-rx=1 --file-prefix=splitvmm-e2e-$$ -l 1 --log-level=lib.eal:error" ;;
	*) echo "NET_E2E_HOST: tap, af-xdp, dpdk or dpdk-null" >&2; exit 2 ;;
	esac
	start_backend() {
		in_ns timeout "$t_dev" "${pin_dev[@]}" "${sup[@]}" "$backend" --vhost-user "$tmp/backend.sock" --server \
			--host "$host_spec" "${st_backend[@]}" ${NET_E2E_BACKEND_OPTS:-} </dev/null >"$tmp/backend.log" 2>&1 &
		pids+=($!)
	}
	start_pcnet() {	# it retries both connects: any start order works
		in_ns timeout "$t_dev" "${pin_dev[@]}" "${sup[@]}" "$pcnet" --connect "$tmp/pcnet.sock" --backend "$tmp/backend.sock" \
			"${st_pcnet[@]}" ${NET_E2E_PCNET_OPTS:-} </dev/null >"$tmp/dev-pcnet.log" 2>&1 &
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
# The same for rr's echo server: the guest's first exchange follows its
# ARP reply at once, and must not find the port closed.
if [ "$scenario" = rr ]; then
	# Not through in_ns: $! must be timeout itself, to stop the server.
	ip netns exec "$ns" timeout 90 python3 "$here/net-peer.py" rr-server 0.0.0.0 7 80 "$tmp/rr.log" >"$tmp/peer.log" 2>&1 &
	peer_pid=$!
	sleep 0.3
fi
for _ in $(seq 200); do in_ns ip link show $tap >/dev/null 2>&1 && break; sleep 0.05; done
if grep -q 'built without' "$tmp/backend.log" 2>/dev/null; then
	echo "SKIP: $(grep -m1 'built without' "$tmp/backend.log")"
	exit 77
fi
in_ns ip link show $tap >/dev/null 2>&1 || die "no $tap in the namespace after 10 s"
# No IPv6 chatter (router solicitations, MLD) towards the guest.
in_ns sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1" 2>/dev/null
in_ns ip addr add $host_ip/24 dev $tap
in_ns ip link set $tap up

# stat FILE NAME: one counter of a 'vmm-core stats' output section.
stat() { sed -n "s/^  $2  *\([0-9]*\).*/\1/p" "$1" | head -n1; }
check_stats() {
	local k
	for k in vmm pcnet backend; do
		"$vmm" stats "$tmp/$k.stats" >"$tmp/$k.counters" 2>&1 ||
			die "vmm-core stats $k: $(cat "$tmp/$k.counters")"
		sed 's/^/    /' "$tmp/$k.counters"
	done
	# Traffic must show in each process, and agree across them.
	[ "$(stat "$tmp/vmm.counters" exits.io)" -gt 0 ] || die "vmm-core counted no I/O exits"
	[ "$(stat "$tmp/vmm.counters" device0.posted_writes)" -gt 0 ] || die "vmm-core counted no posted writes"
	# The driver's CSR0 reads after a RAP write: answered from the shadow
	# (the default), and dev-pcnet told of each (the late acknowledge).
	[ "$(stat "$tmp/vmm.counters" device0.shadow_tracked)" -gt 0 ] || die "vmm-core answered no read from dev-pcnet's shadow"
	[ "$(stat "$tmp/pcnet.counters" requests.shadow_notes)" -gt 0 ] || die "dev-pcnet was told of no CSR0 read answered from its shadow"
	# Its RAP writes: posted without a doorbell, and the traffic flowed.
	[ "$(stat "$tmp/vmm.counters" device0.quiet_writes)" -gt 0 ] || die "vmm-core posted no RAP write without a kick"
	[ "$(stat "$tmp/pcnet.counters" interrupts.asserted)" -gt 0 ] || die "dev-pcnet counted no interrupts"
	[ "$(stat "$tmp/pcnet.counters" chip.rx.frames)" -ge 200 ] || die "dev-pcnet received fewer than 200 frames"
	[ "$(stat "$tmp/backend.counters" txq.frames)" -ge 200 ] || die "the back-end sent fewer than 200 frames"
	[ "$(stat "$tmp/backend.counters" txq.frames)" = "$(stat "$tmp/pcnet.counters" vhost.tx.used)" ] ||
		die "back-end txq.frames and dev-pcnet vhost.tx.used differ"
	[ "$(stat "$tmp/backend.counters" rxq.frames)" -ge "$(stat "$tmp/pcnet.counters" chip.rx.frames)" ] ||
		die "dev-pcnet received more frames than the back-end delivered"
	"$vmm" stats --interval 0.3 --count 2 "$tmp/pcnet.stats" >"$tmp/interval.out" 2>&1 ||
		die "vmm-core stats --interval: $(cat "$tmp/interval.out")"
	[ "$(grep -c '^== ' "$tmp/interval.out")" = 2 ] || die "stats --interval --count 2 printed $(grep -c '^== ' "$tmp/interval.out") rounds"
	echo "live counters: consistent across vmm-core, dev-pcnet and dev-net-backend"
}

if [ "$scenario" = serve ]; then
	[ "$mode" = splitvmm ] || { echo "serve: splitvmm only" >&2; exit 2; }
	cat <<EOF
== running until Ctrl-C (network namespace $ns, guest $guest_ip, host $host_ip on $tap)
   ping the guest:      ip netns exec $ns ping $guest_ip
   UDP echo (port 7):   ip netns exec $ns python3 $here/net-peer.py echo $host_ip $guest_ip 7 100
   live counters:       $vmm stats --interval 1 $tmp/vmm.stats $tmp/pcnet.stats $tmp/backend.stats
   crash a device:      pkill -KILL -x dev-pcnet   (or dev-net-backend): the supervisor
                        restarts it, the guest carries on (deploy/supervise.sh)
   logs:                $tmp/*.log
EOF
	wait "$guest_pid"
	die "the VM ended (status $?)"
fi

# cpu_ticks PID: its utime + stime (the fields after the comm's ')').
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# snapshot FILE: what txbench's marks call for (see the top).
snapshot() {
	local k pid
	{
		# CPU first, with the time it was read: the guest spins
		# through its pause, and the benchmark takes the part of the
		# window outside the guest's timed part off (one CPU's worth).
		echo "wall_ns $(date +%s%N)"
		# Time the hypervisor below gave other guests while ours
		# wanted the CPU (/proc/stat's steal, all CPUs): a run that
		# lost much of its window to it measured the neighbours.
		awk '$1 == "cpu" { print "steal_ticks", $9 }' /proc/stat
		if [ "$mode" = qemu ]; then
			for pid in $(pgrep -f -- "$tmp/qemu.marker"); do
				echo "cpu qemu $(cpu_ticks "$pid")"
			done
		else
			for k in vmm pcnet backend; do
				[ -n "${stat_pid[$k]:-}" ] && echo "cpu $k $(cpu_ticks "${stat_pid[$k]}")"
			done
			for k in vmm pcnet backend; do
				"$vmm" stats "$tmp/$k.stats" >"$tmp/$k.snap" 2>&1 || echo "stats $k failed"
				sed -n "s/^  \([a-z0-9_.]*\)  *\([0-9]*\).*/$k.\1 \2/p" "$tmp/$k.snap"
			done
		fi
		if [ "${NET_E2E_HOST:-tap}" = dpdk-null ]; then
			sed -n 's/^  host\.tx_frames  *\([0-9]*\).*/host_rx \1/p' "$tmp/backend.snap"
		else
			echo "host_rx $(in_ns cat /sys/class/net/$tap/statistics/rx_packets)"
		fi
	} >"$1"
}
if [ "$scenario" = txbench ]; then
	[ -n "${NET_E2E_SNAP:-}" ] || { echo "txbench: set NET_E2E_SNAP" >&2; exit 2; }
	# Each process's pid, from its counters (wrappers sit between).
	declare -A stat_pid
	if [ "$mode" = splitvmm ]; then
		for k in vmm pcnet backend; do
			for _ in $(seq 100); do
				stat_pid[$k]=$("$vmm" stats "$tmp/$k.stats" 2>/dev/null |
					sed -n 's/^process [^ ]* \([0-9]*\)$/\1/p' | head -n1)
				[ -n "${stat_pid[$k]}" ] && break
				sleep 0.05
			done
		done
	fi
	# The console is followed, not polled: a grep and a sleep forked
	# every 10 ms took a fifth of the device processes' CPU in the timed
	# part.  tail follows it by inotify, ends with the guest, and the
	# wait is bounded (120 s) by timeout.
	exec {follow}< <(exec timeout 120 tail -n +1 -F --pid="$guest_pid" "$tmp/guest.log" 2>/dev/null)
	follow_pid=$!
	for mark in ready finished; do
		while IFS= read -r line <&"$follow"; do
			[[ $line == "txbench: $mark"* ]] && break
		done
		[[ ${line:-} == "txbench: $mark"* ]] || die "no 'txbench: $mark' from the guest"
		# Test hook: a read slower than the guest's pause, as on a
		# loaded host (txbench-e2e.sh checks the counts still hold).
		[ -n "${NET_E2E_SNAP_DELAY_MS:-}" ] && sleep "$(( NET_E2E_SNAP_DELAY_MS / 1000 )).$(printf %03d $(( NET_E2E_SNAP_DELAY_MS % 1000 )))"
		if [ $mark = ready ]; then snapshot "$NET_E2E_SNAP.before"; else snapshot "$NET_E2E_SNAP.after"; fi
		# The guest goes on only now (after its pause): the counters
		# hold exactly the timed run however long they took to read.
		printf g >&"$console_in" || die "no go-ahead to the guest's console"
	done
	kill "$follow_pid" 2>/dev/null
	exec {follow}<&-
fi

cap_pid=
if [ -n "${NET_E2E_CAPTURE:-}" ]; then
	# Not through in_ns: $! must be dumpcap itself, to stop it.
	ip netns exec "$ns" dumpcap -q -P -i "$tap" -f "udp port 7" -w "$tmp/host.pcap" 2>"$tmp/dumpcap.log" &
	cap_pid=$!
	pids+=("$cap_pid")
	for _ in $(seq 100); do grep -q Capturing "$tmp/dumpcap.log" && break; sleep 0.05; done
	grep -q Capturing "$tmp/dumpcap.log" || die "dumpcap did not start on $tap"
fi
check_capture() {
	# dumpcap reads the kernel's capture buffer in its own time, and the
	# back-end flushes its file when the rings go idle: let both catch up.
	sleep 1
	kill -TERM "$cap_pid"	# it writes out what it read and exits
	wait "$cap_pid" 2>/dev/null
	python3 "$here/pcap-compare.py" "$tmp/host.pcap" "$tmp/backend.pcap" \
		52:54:00:12:34:56 7 200 || die "the host and the back-end saw different frames"
	n=$(tshark -r "$tmp/backend.pcap" -Y "udp.port == 7" 2>"$tmp/tshark.log" | wc -l)
	[ "$n" -ge 400 ] || die "tshark read $n echo frames from the back-end's pcap: $(cat "$tmp/tshark.log")"
	echo "tshark: $n echo frames in the back-end's pcap"
}

peer_rc=0
case $scenario in
udp-echo)
	in_ns timeout 60 python3 "$here/net-peer.py" echo $host_ip $guest_ip 7 200 >"$tmp/peer.log" 2>&1 || peer_rc=$?
	[ -n "${NET_E2E_STATS:-}" ] && check_stats
	[ -n "$cap_pid" ] && check_capture
	;;
multicast)
	in_ns timeout 60 python3 "$here/net-peer.py" mcast $host_ip 4950 239.1.1.1 20 50 >"$tmp/peer.log" 2>&1 || peer_rc=$?
	;;
esac
wait "$guest_pid"
status=$?
[ "$scenario" = udp-send ] && { wait "$peer_pid" || peer_rc=$?; }
if [ "$scenario" = rr ]; then
	# A guest that failed sends no "rr-done": stop the server (it still
	# writes its log) rather than wait out its time.
	[ "$status" = 0 ] || kill -TERM "$peer_pid" 2>/dev/null
	wait "$peer_pid" || peer_rc=$?
	# The server saw the guest's traffic and wrote its log.
	grep -q '^rr-server: [1-9][0-9]* datagrams' "$tmp/peer.log" 2>/dev/null || peer_rc=1
	[ -s "$tmp/rr.log" ] || peer_rc=1
fi
cat "$tmp/guest.log"
[ -e "$tmp/peer.log" ] && cat "$tmp/peer.log"
[ "$status" = 0 ] || die "guest ended with status $status"
grep -q "TEST PASS $scenario" "$tmp/guest.log" || die "no TEST PASS $scenario"
[ "$peer_rc" = 0 ] || die "the host side failed"
if [ -n "${NET_E2E_SANDBOX:-}" ]; then
	grep -q "^vmm-core: sandboxed" "$tmp/vmm.log" &&
		grep -q "^dev-pcnet: attached .*, sandboxed" "$tmp/dev-pcnet.log" &&
		grep -q "^dev-net-backend: listening .*, sandboxed" "$tmp/backend.log" ||
		die "not all three processes say they ran sandboxed"
	echo "all three processes sandboxed"
fi
echo "PASS $scenario on $mode"
