#!/usr/bin/env bash
# README command 1: installs what is needed, builds, and runs the main job.
# For now the main job boots the project's test guest on vmm-core and shows
# its console; networking through dev-pcnet arrives with the later issues.
#
#   deploy/quickstart.sh [SCENARIO]     SCENARIO: hello (default), pci-scan,
#                                       irq, smp, bench
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-hello}

. tests/deps.sh
deps=("${SPLITVMM_BUILD_DEPS[@]}")
# Without /dev/kvm the VMM runs inside a QEMU VM that provides nested KVM.
[ -e /dev/kvm ] || deps+=(qemu-system-x86 busybox-static cpio xz-utils zstd kmod)
splitvmm_install "${deps[@]}"

[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

vmm=$PWD/build/vmm-core/vmm-core
guest=$PWD/build/tests/guest/test-guest.elf
args=(--kernel "$guest" --cmdline "test=$scenario" --cpus 2 --memory 64 --testdev)

echo "== vmm-core ${args[*]}"
if [ -e /dev/kvm ]; then
	exec "$vmm" "${args[@]}"
fi
echo "== this host has no /dev/kvm: running vmm-core inside a QEMU (TCG) VM"
echo "   that offers nested KVM; the first run fetches its kernel (~70 MB)"
exec tests/nested/run-in-nested-kvm.sh --workdir "$PWD/build/nested" \
	--timeout 300 --file "$vmm" --file "$guest" -- "$vmm" "${args[@]}"
