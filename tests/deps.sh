# shellcheck shell=bash
# Debian packages the build and the tests need; sourced by tests/run.sh and
# deploy/quickstart.sh.  Installs only what is missing, with one
# 'apt-get update' before the first install.
SPLITVMM_BUILD_DEPS=(gcc libc6-dev meson ninja-build pkg-config libcmocka-dev libxdp-dev libbpf-dev libdpdk-dev libseccomp-dev)
SPLITVMM_TEST_DEPS=(qemu-system-x86 valgrind busybox-static cpio xz-utils zstd dpdk-dev iproute2 iputils-ping python3
	kmod clang libclang-rt-14-dev ethtool tshark podman runc catatonit systemd util-linux)

splitvmm_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages: ${missing[*]} (run as root to install them)" >&2
		return 1
	fi
	echo "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
}
