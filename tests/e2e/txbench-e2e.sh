#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The Table 3 benchmark's measurement, checked: the guest's bulk transmit
# (test=txbench) through vmm-core, dev-pcnet and dev-net-backend on host
# path HOST (net-e2e.sh's NET_E2E_HOST), for both guest drivers.  The
# snapshots net-e2e.sh takes at the guest's marks must account for every
# frame the guest timed: the chip sent them, the back-end moved them to
# the host path, the host side received at least them, and the per-frame
# columns' sources (exits, requests, interrupts, CPU of all three
# processes, the hypervisor's steal time) are there.  A broken snapshot would print a wrong table.
#
#   txbench-e2e.sh HOST ELF VMM DEV-PCNET DEV-NET-BACKEND
set -u
[ $# -eq 5 ] || { echo "usage: $0 HOST ELF VMM DEV-PCNET DEV-NET-BACKEND" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
host=$1 elf=$2 vmm=$3 pcnet=$4 backend=$5
tmp=$(mktemp -d "${TMPDIR:-/tmp}/txbench-e2e.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# val FILE KEY: a snapshot's value (empty if absent)
val() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
delta() {
	local a b
	a=$(val "$1.before" "$2") b=$(val "$1.after" "$2")
	[ -n "$a" ] && [ -n "$b" ] || { echo "FAIL: no $2 in $1.before/.after" >&2; exit 1; }
	echo $((b - a))
}

# The batching driver also with the chip's largest ring (512).  The first
# run's snapshots take longer than the guest's pause (300 ms), as on a
# loaded host: the guest must wait for the harness's go-ahead, or the
# counts between the marks miss frames.
for run in "linux 64 300 " "batch 1514 5000 " "batch 1514 5000 ring=512"; do
	read -r drv size n ring <<<"$run"
	snap=$tmp/$drv${ring#ring=}
	delay=
	[ "$drv" = linux ] && delay=500
	NET_E2E_HOST=$host NET_E2E_SNAP=$snap NET_E2E_SNAP_DELAY_MS=$delay \
	NET_E2E_TXBENCH="driver=$drv size=$size frames=$n pause_ms=300 $ring" \
		"$here/net-e2e.sh" splitvmm txbench "$elf" "$vmm" "$pcnet" "$backend" >"$tmp/$drv.log" 2>&1
	st=$?
	if [ $st = 77 ]; then grep -m1 SKIP "$tmp/$drv.log"; exit 77; fi
	[ $st = 0 ] || { cat "$tmp/$drv.log"; echo "FAIL: txbench $drv on $host: status $st"; exit 1; }
	fps=$(sed -n 's/^bench: txbench-frames-per-s \([0-9]*\)$/\1/p' "$tmp/$drv.log")
	[ -n "$fps" ] && [ "$fps" -gt 0 ] || { cat "$tmp/$drv.log"; echo "FAIL: no frames/s from the guest"; exit 1; }
	sent=$(delta "$snap" pcnet.chip.tx.frames) || exit 1
	moved=$(delta "$snap" backend.host.tx_frames) || exit 1
	rx=$(delta "$snap" host_rx) || exit 1
	exits=$(delta "$snap" vmm.exits.io) || exit 1
	irqs=$(delta "$snap" pcnet.interrupts.asserted) || exit 1
	for k in vmm pcnet backend; do
		grep -q "^cpu $k [0-9]" "$snap.after" || { echo "FAIL: no CPU time of $k in the snapshot"; exit 1; }
	done
	steal=$(delta "$snap" steal_ticks) || exit 1	# the table's steal column
	[ "$steal" -ge 0 ] || { echo "FAIL: steal time went backwards ($steal ticks)"; exit 1; }
	echo "txbench $drv $size B${ring:+ $ring} on $host: $n frames, $fps/s; between the marks the chip sent $sent, the back-end moved $moved, the host took $rx; $exits exits, $irqs interrupts"
	[ "$sent" = "$n" ] || { echo "FAIL: the chip sent $sent frames between the marks, the guest timed $n"; exit 1; }
	[ "$moved" = "$n" ] || { echo "FAIL: the back-end moved $moved frames, the guest sent $n"; exit 1; }
	[ "$rx" -ge "$n" ] || { echo "FAIL: the host side took $rx frames of $n"; exit 1; }
	[ "$exits" -gt 0 ] && [ "$irqs" -gt 0 ] || { echo "FAIL: no exits or interrupts counted"; exit 1; }
done
echo "PASS txbench-e2e on $host"
