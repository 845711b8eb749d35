#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The network path, end to end, side by side in one run: ping round trip
# and UDP throughput (guest -> a sink in the test namespace) through
# vmm-core + dev-pcnet + dev-net-backend on each host path (TAP, AF_XDP on
# a veth, DPDK net_tap), and through QEMU's own -device pcnet with its TAP
# backend (TCG: QEMU's KVM path does not run on this project's PVM hosts).
#
#   run-net-bench.sh ELF VMM DEV-PCNET DEV-NET-BACKEND
set -u
elf=$1 vmm=$2 pcnet=$3 backend=$4
here=$(cd "$(dirname "$0")" && pwd)
e2e=$here/../e2e/net-e2e.sh
echo "network benchmark, $(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -r)"
[ "$(id -u)" = 0 ] || { echo "needs root: nothing measured"; exit 0; }
printf '%-48s %14s %16s %16s\n' "" "ping rtt avg" "UDP sent (guest)" "UDP at the sink"
for row in tap af-xdp dpdk qemu; do
	if [ $row = qemu ]; then
		mode=qemu label="QEMU 7.2 -device pcnet (TCG), TAP"
		args=("$elf")
	else
		mode=splitvmm label="vmm-core + dev-pcnet + dev-net-backend, $row"
		args=("$elf" "$vmm" "$pcnet" "$backend")
	fi
	export NET_E2E_HOST=$row
	ping=$("$e2e" $mode ping "${args[@]}" 2>&1 | sed -n 's/^bench: ping-rtt-avg \([0-9]*\) us/\1 us/p')
	out=$("$e2e" $mode udp-send "${args[@]}" 2>&1)
	sent=$(printf '%s\n' "$out" | sed -n 's/^bench: udp-send \([0-9]*\) Mbit\/s/\1 Mbit\/s/p')
	sink=$(printf '%s\n' "$out" | sed -n 's/^sink: .*, \([0-9.]*\) Mbit\/s$/\1 Mbit\/s/p')
	printf '%-48s %14s %16s %16s\n' "$label" "${ping:-failed}" "${sent:-failed}" "${sink:-failed}"
done
echo "(UDP: 4 MB in 1472-byte datagrams; 'sent' is the guest's own clock, 'at the sink' the receiver's)"
