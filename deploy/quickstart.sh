#!/usr/bin/env bash
# README command 1: installs what is needed, builds, and runs the main job:
# the test guest on vmm-core with its PCnet-PCI II NIC served by the
# dev-pcnet process, driven the way Linux's pcnet32 drives it (probe, open,
# transmit, interrupts, NAPI), every frame coming back byte-exact through
# the chip's internal loopback.  The network backend (dev-net-backend) and
# frames leaving the host arrive with the later issues.
#
#   deploy/quickstart.sh [SCENARIO [ARGS...]]
#
#   SCENARIO: pcnet-linux (default, with frames=200), pcnet-ipxe,
#   pcnet-netbsd, pcnet-mmio, hello, pci-scan, irq, smp, testdev, bench;
#   ARGS go on the guest command line (e.g. frames=1000).
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-pcnet-linux}
[ $# -gt 0 ] && shift
extra=("$@")
[ "$scenario" = pcnet-linux ] && [ ${#extra[@]} -eq 0 ] && extra=(frames=200)

. tests/deps.sh
deps=("${SPLITVMM_BUILD_DEPS[@]}")
# Without /dev/kvm the VMM runs inside a QEMU VM that provides nested KVM.
[ -e /dev/kvm ] || deps+=(qemu-system-x86 busybox-static cpio xz-utils zstd kmod)
splitvmm_install "${deps[@]}"

[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

vmm=$PWD/build/vmm-core/vmm-core
pcnet=$PWD/build/dev-pcnet/dev-pcnet
guest=$PWD/build/tests/guest/test-guest.elf
run=$PWD/deploy/run-vm.sh
cmdline="test=$scenario ${extra[*]}"
opts=(--memory 64 --testdev --verbose)

echo "== vmm-core --kernel test-guest.elf --cmdline '$cmdline' ${opts[*]} --device-sock SOCK"
echo "== dev-pcnet --connect SOCK"
if [ -e /dev/kvm ]; then
	exec "$run" "$vmm" "$pcnet" "$guest" "$cmdline" "${opts[@]}"
fi
echo "== this host has no /dev/kvm: running both inside a QEMU (TCG) VM"
echo "   that offers nested KVM; the first run fetches its kernel (~70 MB)"
exec tests/nested/run-in-nested-kvm.sh --workdir "$PWD/build/nested" \
	--timeout 300 --file "$vmm" --file "$pcnet" --file "$guest" --file "$run" \
	-- sh "$run" "$vmm" "$pcnet" "$guest" "$cmdline" "${opts[@]}"
