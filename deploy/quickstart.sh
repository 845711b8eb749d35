#!/usr/bin/env bash
# README command 1: installs what is needed, builds, and runs the main job:
# a VM whose PCnet-PCI II NIC passes traffic to the host through all three
# processes.  In a network namespace it makes (host side 10.77.0.1 on a
# TAP, the guest 10.77.0.2), it starts dev-net-backend on the TAP, vmm-core
# with the test guest, and dev-pcnet between them; the guest pings the
# host, then sends 4 MB of UDP to a sink there (tests/e2e/net-e2e.sh).
# Everything is removed on exit or Ctrl-C.
#
#   deploy/quickstart.sh                 the network main job (root, /dev/kvm)
#   deploy/quickstart.sh --keep          the same, then a VM that stays up
#       until Ctrl-C: ping it, send it UDP, watch the live counters of the
#       three processes ('vmm-core stats'), as the script prints
#   deploy/quickstart.sh SCENARIO [ARGS] one guest scenario with dev-pcnet:
#       pcnet-linux (frames=200), pcnet-ipxe, pcnet-netbsd, pcnet-mmio,
#       pcnet-persist, hello, pci-scan, irq, smp, testdev, bench; ARGS go on
#       the guest command line (e.g. frames=1000)
#
# Without /dev/kvm (or not as root) the network job cannot run; the default
# is then pcnet-linux over the chip's internal loopback, inside a QEMU VM
# that offers nested KVM when /dev/kvm is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
keep=
if [ "${1:-}" = --keep ]; then keep=1; shift; fi
scenario=${1:-network}
[ $# -gt 0 ] && shift
extra=("$@")

. tests/deps.sh
deps=("${SPLITVMM_BUILD_DEPS[@]}")
# Without /dev/kvm the VMM runs inside a QEMU VM that provides nested KVM.
[ -e /dev/kvm ] || deps+=(qemu-system-x86 busybox-static cpio xz-utils zstd kmod)
splitvmm_install "${deps[@]}"

[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

if [ "$scenario" = network ]; then
	if [ -e /dev/kvm ] && [ "$(id -u)" = 0 ]; then
		splitvmm_install iproute2 iputils-ping python3
		b=$PWD/build
		for s in ping udp-send; do
			echo "== $s: vmm-core + dev-pcnet + dev-net-backend --host tap:svtap0 (namespace, 10.77.0.1 <-> guest 10.77.0.2)"
			tests/e2e/net-e2e.sh splitvmm "$s" "$b/tests/guest/test-guest.elf" \
				"$b/vmm-core/vmm-core" "$b/dev-pcnet/dev-pcnet" \
				"$b/dev-net-backend/dev-net-backend" |
				grep -v -e '^vmm-core: stats' -e '^bench: '
		done
		if [ -z "$keep" ]; then
			echo "== live counters: deploy/quickstart.sh --keep runs a VM until Ctrl-C and prints the 'vmm-core stats' command that shows them"
			exit 0
		fi
		exec tests/e2e/net-e2e.sh splitvmm serve "$b/tests/guest/test-guest.elf" \
			"$b/vmm-core/vmm-core" "$b/dev-pcnet/dev-pcnet" \
			"$b/dev-net-backend/dev-net-backend"
	fi
	echo "== the network job needs root and /dev/kvm; running pcnet-linux over internal loopback instead"
	scenario=pcnet-linux
fi
[ "$scenario" = pcnet-linux ] && [ ${#extra[@]} -eq 0 ] && extra=(frames=200)

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
