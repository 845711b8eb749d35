#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Boot the test guest under vmm-core and check the result exactly as
# tests/guest/run-qemu.sh checks it under QEMU: exit status and console lines.
#
#   run-vmm.sh [-s CPUS] [-m MIB] [-d] [-e STATUS] [-p TEXT]... VMM ELF CMDLINE
#
#   -d adds vmm-core's in-core PCI test function (--testdev).
#   -n does not require 'TEST PASS' for status 0 (scenarios that end
#      the VM another way); give -p patterns instead.
#   Patterns are matched against the console and vmm-core's stderr.
#
# With /dev/kvm the VMM runs here.  Without it, it runs inside a QEMU TCG
# VM that offers nested KVM (tests/nested/run-in-nested-kvm.sh, cache in
# $NESTED_KVM_WORKDIR); if that cannot provide KVM either, the test is
# skipped (exit 77) with the reason.
set -u

cpus=1 mem=64 want=0 patterns=() extra=() need_pass=1
while getopts s:m:dne:p: opt; do
	case $opt in
	s) cpus=$OPTARG ;;
	m) mem=$OPTARG ;;
	d) extra+=(--testdev) ;;
	n) need_pass=0 ;;
	e) want=$OPTARG ;;
	p) patterns+=("$OPTARG") ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 3 ] || { echo "usage: $0 [options] VMM ELF CMDLINE" >&2; exit 2; }
vmm=$(realpath "$1") elf=$(realpath "$2") append=$3
here=$(cd "$(dirname "$0")" && pwd)
nested=$here/../nested/run-in-nested-kvm.sh

args=(--kernel "$elf" --cmdline "$append" --cpus "$cpus" --memory "$mem" "${extra[@]}")
if [ -e /dev/kvm ]; then
	out=$(timeout 60 "$vmm" "${args[@]}" </dev/null 2>&1)
	status=$?
else
	echo "no /dev/kvm here: running vmm-core inside a nested-KVM QEMU VM"
	out=$("$nested" --workdir "${NESTED_KVM_WORKDIR:-/tmp/splitvmm-nested}" \
		--timeout 240 --file "$vmm" --file "$elf" \
		-- timeout 180 "$vmm" "${args[@]}" </dev/null 2>&1)
	status=$?
	[ $status -eq 77 ] && exit 77	# the runner said why on stderr
fi
printf '%s\n' "$out"
echo "exit status $status"

test_name=$(printf '%s\n' "$append" | tr ' ' '\n' | sed -n 's/^test=//p' | tail -n 1)
[ "$want" = 0 ] && [ $need_pass = 1 ] && patterns+=("TEST PASS $test_name")
rc=0
if [ "$status" != "$want" ]; then
	echo "FAIL: exit status $status, expected $want" >&2
	rc=1
fi
for p in "${patterns[@]}"; do
	if ! printf '%s\n' "$out" | grep -qF -- "$p"; then
		echo "FAIL: output lacks: $p" >&2
		rc=1
	fi
done
exit $rc
