#!/bin/bash
# SPDX-License-Identifier: MIT
#
# qemu-virtio-net.sh DEV-NET-BACKEND CACHEDIR
#
# A second, real front-end for dev-net-backend: QEMU 7.2's virtio-net-pci
# over vhost-user (guest RAM a shared memfd), driven by Debian's own kernel
# and its virtio_net driver under TCG, through our back-end to a TAP in a
# network namespace made here:
#
#   namespace qvh-PID:  dev-net-backend --server --host tap:qvhtap0 --once
#                       qvhtap0 10.78.0.1/24, qvh-peer.py (TCP sink/source)
#                       qemu-system-x86_64 -accel tcg -cpu max ...
#   guest (initramfs):  insmod virtio_net and its dependencies, eth0
#                       10.78.0.2/24, ping 10.78.0.1, QVH_MB MiB to the sink
#                       (which answers count and SHA-256), QVH_MB MiB back
#                       from the source, QVH-PASS, poweroff -f
#
# Asserts: ping replies came; the sink got exactly the guest's bytes (count
# and hash) and the guest exactly the source's; QEMU exited with status 0
# (ACPI power-off) within its bound; the back-end exited 0 (--once) and its
# counters are consistent: rxq frames/bytes = what the host path delivered,
# txq frames/bytes = what the host path sent, no drop of any kind, no host
# path error, at least the bulk bytes each way, and within a few frames of
# the guest driver's own eth0 counters.  Prints the boot time, ping RTT and
# both throughputs.
#
# MSI-X is off (virtio-net-pci,vectors=0: the guest uses INTx).  With MSI-X
# QEMU 7.2 (Debian 1:7.2+dfsg-7+deb12u18) dies of SIGSEGV as soon as the
# driver sets DRIVER_OK, whatever the back-end: vhost_net_start() clears
# use_guest_notifier_mask for every vhost-user peer, then
# virtio_pci_set_guest_notifiers() installs the MSI-X vector notifiers even
# though, without KVM, it allocated no proxy->vector_irqfd;
# msix_set_vector_notifiers() unmasks the vectors the guest already
# enabled, virtio_pci_vq_vector_unmask() takes its "no guest notifier mask"
# branch and kvm_virtio_pci_irqfd_use() reads &proxy->vector_irqfd[vector]
# (NULL + 24 * vector).  Backtrace: virtio_set_status -> vhost_net_start ->
# virtio_pci_set_guest_notifiers -> msix_set_vector_notifiers ->
# virtio_pci_vector_unmask -> kvm_virtio_pci_irqfd_use.  The vhost-user
# exchange up to then is complete and ordinary (features, memory table,
# both rings set up and started), so DPDK's vhost PMD met the same crash.
# Without MSI-X, with_irqfd is false, no vector is ever unmasked through
# that path, and QEMU relays the back-end's call eventfds as INTx.
# QVH_DEVICE_OPTS replaces ",vectors=0" (e.g. QVH_DEVICE_OPTS= to see the
# crash; the test then fails with QEMU's signal); QVH_APPEND adds to the
# guest's command line; QVH_MB sets the MiB each way (default 8); QVH_BOOT
# is pvh (default: the ELF vmlinux by its PVH note) or bzimage;
# QVH_NETDEV_OPTS (",queues=1"), QVH_MACHINE (pc, q35) and QVH_BACKEND_OPTS
# ("--no-mrg-rxbuf") are for trying other set-ups.
#
# Root only (namespaces, TAP); exit 77 with one line saying why when a
# prerequisite is missing (root, QEMU, the kernel download).  Every process
# runs under timeout(1); every process, the namespace and the temporary
# directory are removed on exit.
set -u
prog=${0##*/}
skip() { echo "SKIP: $*"; exit 77; }
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: $prog DEV-NET-BACKEND CACHEDIR [KERNEL-CACHE]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
backend=$(realpath "$1")
cachedir=$2

[ "$(id -u)" = 0 ] || skip "needs root (network namespace, TAP)"
command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64 (apt-get install qemu-system-x86)"
for t in ip python3 timeout; do
	command -v $t >/dev/null || skip "no $t"
done
[ -x "$backend" ] || { echo "FAIL: $backend is not an executable" >&2; exit 1; }
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

# The guest: Debian's kernel and an initramfs with virtio_net (cached).
mkdir -p "$(dirname "$cachedir")" || { echo "FAIL: cannot make $(dirname "$cachedir")" >&2; exit 1; }
timeout 200 "$here/prepare-guest.sh" "$cachedir" ${3:+"$3"} 2>"$cachedir.prepare.log"
rc=$?
case $rc in
0) ;;
77) skip "$(sed -n 's/^.*SKIP: //p' "$cachedir.prepare.log" | head -n1)" ;;
*) echo "FAIL: prepare-guest.sh exited $rc:" >&2; cat "$cachedir.prepare.log" >&2; exit 1 ;;
esac
guest=$(cd "$cachedir" && pwd)

host_ip=10.78.0.1 guest_ip=10.78.0.2 tap=qvhtap0
sink_port=5001 source_port=5002
mb=${QVH_MB:-8}
case ${QVH_BOOT:-pvh} in
pvh) kernel=$guest/vmlinux ;;		# the ELF, by its PVH note: no decompressor
bzimage) kernel=$guest/vmlinuz ;;
*) echo "QVH_BOOT: pvh or bzimage" >&2; exit 2 ;;
esac
dev_opts=${QVH_DEVICE_OPTS-,vectors=0}
ns=qvh-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qemu-vhost.XXXXXX")
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for _ in $(seq 20); do
		local alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
dump() {
	local f
	for f in "$tmp"/*.log; do [ -e "$f" ] && { echo "--- $(basename "$f")"; tail -n 60 "$f"; }; done
}
die() { echo "FAIL: $*"; dump; exit 1; }
in_ns() { ip netns exec "$ns" "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

ip netns add "$ns" || die "ip netns add $ns"
in_ns ip link set lo up
# No IPv6 on the host side (the guest has it off too): only the test's own
# frames cross the back-end, so the counters can be compared.
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null

# The back-end first (QEMU's -chardev socket connects once, at start-up).
# timeout -s INT: on a hang the back-end still prints its counters.
in_ns timeout -s INT 100 "$backend" --vhost-user "$tmp/vhost.sock" --server \
	--host "tap:$tap" --once -v ${QVH_BACKEND_OPTS:-} </dev/null >"$tmp/backend.log" 2>&1 &
backend_pid=$!
pids+=("$backend_pid")
for _ in $(seq 100); do
	[ -S "$tmp/vhost.sock" ] && in_ns ip link show $tap >/dev/null 2>&1 && break
	kill -0 "$backend_pid" 2>/dev/null || die "dev-net-backend exited at start-up"
	sleep 0.05
done
[ -S "$tmp/vhost.sock" ] || die "no vhost-user socket after 5 s"
in_ns ip link show $tap >/dev/null 2>&1 || die "no $tap in the namespace after 5 s"
in_ns ip addr add $host_ip/24 dev $tap || die "ip addr add"
in_ns ip link set $tap up || die "ip link set $tap up"

in_ns timeout 100 python3 "$here/qvh-peer.py" $sink_port $source_port $((mb * 1048576)) 95 \
	</dev/null >"$tmp/peer.log" 2>&1 &
peer_pid=$!
pids+=("$peer_pid")
for _ in $(seq 100); do grep -q '^QVH-PEER listening' "$tmp/peer.log" && break; sleep 0.05; done
grep -q '^QVH-PEER listening' "$tmp/peer.log" || die "qvh-peer.py did not start"

# shellcheck disable=SC2054 # commas: QEMU option syntax
qemu_cmd=(qemu-system-x86_64 -accel tcg -cpu max -m 256M
	-object memory-backend-memfd,id=mem,size=256M,share=on
	-machine "${QVH_MACHINE:-pc},memory-backend=mem"
	-display none -monitor none -serial "file:$tmp/console.log" -no-reboot -nodefaults
	-chardev "socket,id=vu0,path=$tmp/vhost.sock"
	-netdev "vhost-user,chardev=vu0,id=n0${QVH_NETDEV_OPTS:-}"
	-device "virtio-net-pci,netdev=n0,mac=52:54:00:78:00:02$dev_opts"
	-kernel "$kernel" -initrd "$guest/initrd.cpio.gz"
	-append "console=ttyS0 panic=-1 loglevel=4 ipv6.disable=1 qvh_ip=$guest_ip qvh_host=$host_ip qvh_port=$sink_port qvh_rxport=$source_port qvh_mb=$mb qvh_rxmb=$mb ${QVH_APPEND:-}")
echo "qemu: ${qemu_cmd[*]}"
t_start=$(now)
in_ns timeout 90 "${qemu_cmd[@]}" </dev/null >"$tmp/qemu.log" 2>&1 &
qemu_pid=$!
pids+=("$qemu_pid")

# Wait for QEMU (bounded by its timeout), noting when init ran.
t_init=
while kill -0 "$qemu_pid" 2>/dev/null; do
	[ -z "$t_init" ] && grep -q '^QVH-INIT' "$tmp/console.log" 2>/dev/null && t_init=$(now)
	sleep 0.05
done
wait "$qemu_pid"
qemu_rc=$?
t_end=$(now)
[ -z "$t_init" ] && grep -q '^QVH-INIT' "$tmp/console.log" 2>/dev/null && t_init=$t_end
tr -d '\r' <"$tmp/console.log" >"$tmp/console.txt" 2>/dev/null
grep '^QVH-' "$tmp/console.txt"

# The back-end exits by itself (--once) when QEMU's connection ends.
for _ in $(seq 100); do kill -0 "$backend_pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$backend_pid" 2>/dev/null && die "dev-net-backend still running 5 s after QEMU left"
wait "$backend_pid"
backend_rc=$?
for _ in $(seq 40); do kill -0 "$peer_pid" 2>/dev/null || break; sleep 0.05; done
kill "$peer_pid" 2>/dev/null
wait "$peer_pid" 2>/dev/null
grep '^QVH-SINK\|^QVH-SOURCE' "$tmp/peer.log"
grep '^dev-net-backend: \(features\|rxq\|txq\|host\)' "$tmp/backend.log"

# ------------------------------------------------------------ verdict ---
case $qemu_rc in
0) ;;
124) die "QEMU did not finish within 90 s" ;;
*) [ $qemu_rc -gt 128 ] && die "QEMU died of signal $((qemu_rc - 128)) ($(kill -l $((qemu_rc - 128)) 2>/dev/null))"
   die "QEMU exited $qemu_rc" ;;
esac
grep -q '^QVH-INIT' "$tmp/console.txt" || die "the guest's init never ran"
fl=$(grep -m1 '^QVH-FAIL' "$tmp/console.txt") && die "guest: $fl"
grep -q '^QVH-PASS' "$tmp/console.txt" || die "no QVH-PASS from the guest"
[ $backend_rc = 0 ] || die "dev-net-backend exited $backend_rc"

field() {	# field LINE KEY: the value of KEY=VALUE in LINE
	sed -n "s/.*[ ^]$2=\([^ ]*\).*/\1/p" <<<" $1"
}
ping_line=$(grep -m1 '^QVH-PING' "$tmp/console.txt")
[ "$(field "$ping_line" received)" -gt 0 ] 2>/dev/null || die "no ping reply: $ping_line"

tx_line=$(grep -m1 '^QVH-TX' "$tmp/console.txt")
rx_line=$(grep -m1 '^QVH-RX' "$tmp/console.txt")
sink_line=$(grep -m1 '^QVH-SINK' "$tmp/peer.log") || die "the sink reported nothing"
source_line=$(grep -m1 '^QVH-SOURCE' "$tmp/peer.log") || die "the source reported nothing"
want=$((mb * 1048576))
[ "$(field "$tx_line" bytes)" = $want ] || die "the guest sent $(field "$tx_line" bytes) bytes, not $want"
[ "$(field "$sink_line" bytes)" = "$(field "$tx_line" bytes)" ] ||
	die "the sink got $(field "$sink_line" bytes) bytes, the guest sent $(field "$tx_line" bytes)"
[ "$(field "$sink_line" sha256)" = "$(field "$tx_line" sha256)" ] || die "guest to host: the bytes differ (SHA-256)"
[ "$(field "$source_line" bytes)" = $want ] || die "the source sent $(field "$source_line" bytes) bytes, not $want"
[ "$(field "$rx_line" bytes)" = $want ] || die "the guest received $(field "$rx_line" bytes) bytes, not $want"
[ "$(field "$rx_line" sha256)" = "$(field "$source_line" sha256)" ] || die "host to guest: the bytes differ (SHA-256)"

# The back-end's counters (README: one line per queue, one for the host path).
rxq=$(grep -m1 '^dev-net-backend: rxq ' "$tmp/backend.log") || die "no rxq counters from dev-net-backend"
txq=$(grep -m1 '^dev-net-backend: txq ' "$tmp/backend.log") || die "no txq counters from dev-net-backend"
hostc=$(grep -m1 '^dev-net-backend: host ' "$tmp/backend.log") || die "no host counters from dev-net-backend"
num() {	# num LINE WORD [NTH]: the number after the NTH (default 1st) WORD
	awk -v w="$2" -v k="${3:-1}" '{ for (i = 1; i < NF; i++) if ($i == w && --k == 0) { print $(i + 1); exit } }' <<<"$1"
}
for c in bad_chain runt truncated disabled host host_busy broken; do
	for q in "$rxq" "$txq"; do
		[ "$(num "$q" $c)" = 0 ] || die "back-end drops: $c is $(num "$q" $c) in: $q"
	done
done
rxq_f=$(num "$rxq" frames) rxq_b=$(num "$rxq" bytes)
txq_f=$(num "$txq" frames) txq_b=$(num "$txq" bytes)
h_tx_f=$(num "$hostc" frames 1) h_tx_b=$(num "$hostc" bytes 1) h_tx_e=$(num "$hostc" errors 1)
h_rx_f=$(num "$hostc" frames 2) h_rx_b=$(num "$hostc" bytes 2) h_rx_e=$(num "$hostc" errors 2)
h_trunc=$(num "$hostc" truncated)
[ "$txq_f/$txq_b" = "$h_tx_f/$h_tx_b" ] || die "txq $txq_f frames $txq_b bytes, host path sent $h_tx_f frames $h_tx_b bytes"
[ "$rxq_f/$rxq_b" = "$h_rx_f/$h_rx_b" ] || die "rxq $rxq_f frames $rxq_b bytes, host path received $h_rx_f frames $h_rx_b bytes"
[ "$h_tx_e/$h_rx_e/$h_trunc" = 0/0/0 ] || die "host path errors: $hostc"
[ "$txq_b" -ge $want ] || die "txq carried $txq_b bytes, less than the $want the guest sent"
[ "$rxq_b" -ge $want ] || die "rxq carried $rxq_b bytes, less than the $want the guest received"
# The guest driver's view (read before power-off: a late ACK may follow).
st=$(grep -m1 '^QVH-STATS' "$tmp/console.txt") || die "no QVH-STATS from the guest"
g_tx=$(field "$st" tx_packets) g_rx=$(field "$st" rx_packets)
[ "$txq_f" -ge "$g_tx" ] && [ "$txq_f" -le $((g_tx + 8)) ] ||
	die "txq $txq_f frames, the guest's eth0 sent $g_tx"
[ "$rxq_f" -ge "$g_rx" ] && [ "$rxq_f" -le $((g_rx + 8)) ] ||
	die "rxq $rxq_f frames, the guest's eth0 received $g_rx"
for s in rx_dropped tx_dropped rx_errors tx_errors; do
	[ "$(field "$st" $s)" = 0 ] || die "guest eth0 $s = $(field "$st" $s)"
done

# ------------------------------------------------------------ figures ---
init_up=$(field "$(grep -m1 '^QVH-INIT' "$tmp/console.txt")" uptime)
echo "boot: QEMU start to init $(elapsed "$t_start" "$t_init") s (guest uptime at init ${init_up} s), whole run $(elapsed "$t_start" "$t_end") s"
echo "ping: $(field "$ping_line" received)/$(field "$ping_line" sent) replies, rtt min/avg/max $(field "$ping_line" rtt_min_avg_max) ms"
echo "guest->host: $(field "$sink_line" bytes) bytes in $(field "$sink_line" seconds) s = $(field "$sink_line" mbit_s) Mbit/s"
echo "host->guest: $(field "$source_line" bytes) bytes in $(field "$source_line" seconds) s = $(field "$source_line" mbit_s) Mbit/s"
echo "back-end: txq $txq_f frames $txq_b bytes, rxq $rxq_f frames $rxq_b bytes (guest eth0: tx $g_tx, rx $g_rx)"
echo "PASS: QEMU virtio-net-pci$dev_opts + Debian $(sed -n 's/^package=//p' "$guest/info") $(sed -n 's/^version=//p' "$guest/info") virtio_net through dev-net-backend"
