#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The main job: vmm-core running a guest whose PCnet-PCI II NIC is the
# dev-pcnet process, attached through vmm-core's device socket.
#
#   run-vm.sh VMM DEV-PCNET KERNEL CMDLINE [VMM-OPTIONS...]
#
# POSIX sh (it also runs inside the nested-KVM VM, whose shell is busybox).
# Exits with vmm-core's status; dev-pcnet ends when vmm-core closes the
# socket.
set -u
vmm=$1 pcnet=$2 kernel=$3 cmdline=$4
shift 4
dir=$(mktemp -d "${TMPDIR:-/tmp}/splitvmm.XXXXXX") || exit 1
sock=$dir/pcnet.sock
"$vmm" --kernel "$kernel" --cmdline "$cmdline" --device-sock "$sock" "$@" &
vmm_pid=$!
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do
	kill -0 $vmm_pid 2>/dev/null || break
	sleep 0.05
	i=$((i + 1))
done
"$pcnet" --connect "$sock" &
pcnet_pid=$!
wait $vmm_pid
status=$?
# dev-pcnet sees the hang-up and exits; never leave it behind.
i=0
while kill -0 $pcnet_pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill $pcnet_pid 2>/dev/null
wait $pcnet_pid 2>/dev/null
rm -rf "$dir"
exit $status
