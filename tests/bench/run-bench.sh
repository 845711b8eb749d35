#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs boot-bench on this machine's KVM, or inside the nested-KVM QEMU VM
# when there is no /dev/kvm, and says which: figures from the nested VM are
# those of KVM running on QEMU's emulated SVM, good only as ratios.
set -u
bench=$(realpath "$1") vmm=$(realpath "$2") guest=$(realpath "$3")
here=$(cd "$(dirname "$0")" && pwd)
echo "vmm-core foundation benchmark, $(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -r)"
if [ -e /dev/kvm ]; then
	echo "KVM: /dev/kvm of this host"
	exec "$bench" "$vmm" "$guest" 5
fi
echo "KVM: none here; nested KVM inside QEMU TCG (figures are ratios only)"
exec "$here/../nested/run-in-nested-kvm.sh" \
	--workdir "${NESTED_KVM_WORKDIR:-/tmp/splitvmm-nested}" --timeout 600 \
	--file "$bench" --file "$vmm" --file "$guest" -- "$bench" "$vmm" "$guest" 5
