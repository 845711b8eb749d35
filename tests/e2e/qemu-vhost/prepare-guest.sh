#!/bin/bash
# SPDX-License-Identifier: MIT
#
# prepare-guest.sh CACHEDIR [KERNEL-CACHE]
#
# KERNEL-CACHE (default CACHEDIR.kernel) is tests/slow/prepare-kernel.sh's
# cache; the e2e test shares the slow suite's, so the kernel is fetched once.
#
# Fills CACHEDIR, once (later runs find CACHEDIR/info and return at once),
# with what qemu-virtio-net.sh boots:
#
#   vmlinux, vmlinuz Debian's stock kernel (the package linux-image-amd64
#                    depends on) as tests/slow/prepare-kernel.sh makes them
#                    in CACHEDIR.kernel (called from here): the bzImage and
#                    the ELF inside it, which QEMU boots by PVH (skipping the
#                    decompressor saves about 4 s under TCG)
#   initrd.cpio.gz   a busybox-static initramfs holding virtio_net.ko and
#                    every module it needs (Debian 12 builds virtio, the
#                    virtio PCI transport and failover as modules), in the
#                    order they must be loaded, and the /init below
#   info             package, version, release, modules (one 'key=value' a
#                    line)
#
# The modules come from the package tests/slow/prepare-kernel.sh fetched
# and keeps in CACHEDIR.kernel (never installed); only drivers/virtio,
# drivers/net and net/core are unpacked.  The dependency order comes from
# each module's own 'depends=' field
# (modinfo), since the package has no modules.dep (depmod makes it when the
# package is installed).  Modules may be plain .ko or .ko.xz/.ko.zst: they
# are decompressed here, so the guest's busybox insmod needs neither.
#
# /init takes its settings from the kernel command line (unknown 'key=value'
# parameters reach init's environment): qvh_ip, qvh_host, qvh_ping,
# qvh_port, qvh_mb, qvh_rxport, qvh_rxmb.  See init below for what it does
# and the QVH-* lines it prints.
#
# Concurrent callers serialise on CACHEDIR.lock; the directory is built aside
# and renamed into place.  Exit status: 0 ready; 77 (one line on stderr: why)
# when the kernel cannot be fetched or a tool is missing; 1 when what was
# fetched is not what we expect.
set -eu

prog=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "$prog: SKIP: $*" >&2; exit 77; }
fail() { echo "$prog: ERROR: $*" >&2; exit 1; }

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $prog CACHEDIR [KERNEL-CACHE]" >&2; exit 2; }
mkdir -p "$(dirname "$1")"
cache=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -f "$cache/info" ] && exit 0

for t in dpkg-deb flock gzip modinfo tar; do
	command -v $t >/dev/null 2>&1 || skip "$t not found"
done
exec 9>"$cache.lock"
flock -w 900 9 || fail "timed out waiting for $cache.lock"
[ -f "$cache/info" ] && exit 0

tmp=$(mktemp -d "$cache.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# ------------------------------------------------------- the kernel ---
# tests/slow/prepare-kernel.sh resolves and fetches the kernel, makes the
# PVH vmlinux and keeps the package and busybox (its own cache, beside
# ours); the modules come from that package.
kcache=${2:-$cache.kernel}
# A cache from before it kept the package is made again, once.
[ -f "$kcache/info" ] && [ ! -f "$kcache/kernel.deb" ] && rm -rf "$kcache"
rc=0
"$here/../../slow/prepare-kernel.sh" "$kcache" 2>"$tmp/kernel.log" || rc=$?
case $rc in
0) ;;
77) skip "$(sed -n 's/^.*SKIP: //p' "$tmp/kernel.log" | head -n1)" ;;
*) fail "tests/slow/prepare-kernel.sh exited $rc: $(tail -n1 "$tmp/kernel.log")" ;;
esac
kpkg=$(sed -n 's/^package=//p' "$kcache/info")
kver=$(sed -n 's/^version=//p' "$kcache/info")
[ -n "$kpkg" ] && [ -n "$kver" ] || fail "$kcache/info names no package and version"
for f in vmlinux vmlinuz kernel.deb busybox; do
	[ -f "$kcache/$f" ] || fail "$kcache lacks $f"
done
kdeb=$kcache/kernel.deb bb=$kcache/busybox
[ "$(dpkg-deb -f "$kdeb" Version)" = "$kver" ] || fail "$kdeb is not version $kver"

# ------------------------------------------------ kernel and modules ---
# Only the module trees virtio_net can depend on.
mkdir -p "$tmp/k"
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$tmp/k" --wildcards \
	'./lib/modules/*/kernel/drivers/virtio/*' \
	'./lib/modules/*/kernel/drivers/net/*' './lib/modules/*/kernel/net/core/*' \
	'./lib/modules/*/modules.builtin' 2>"$tmp/tar.log" ||
	fail "cannot unpack $kdeb: $(head -n1 "$tmp/tar.log")"
mods=$(echo "$tmp"/k/lib/modules/*)
[ -d "$mods/kernel" ] || fail "$kdeb has no /lib/modules/*/kernel"
krel=${mods##*/}

# name -> file, for the module names 'depends=' gives (- and _ are the same)
declare -A modfile
while IFS= read -r f; do
	n=${f##*/}; n=${n%%.ko*}; n=${n//-/_}
	modfile[$n]=$f
done < <(find "$mods/kernel" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst')

builtin() { grep -q "/${1//_/[-_]}\.ko" "$mods/modules.builtin" 2>/dev/null; }
order=()
declare -A seen
visit() {	# depth first: a module after everything it depends on
	local n=$1 d
	[ -n "${seen[$n]:-}" ] && return 0
	seen[$n]=1
	if [ -z "${modfile[$n]:-}" ]; then
		builtin "$n" && return 0
		fail "module $n (needed by virtio_net) is neither in $kdeb's drivers/{virtio,net} nor built in"
	fi
	for d in $(modinfo -F depends "${modfile[$n]}" | tr ',' ' '); do
		visit "${d//-/_}"
	done
	order+=("$n")
}
# virtio_pci: the transport (virtio_net depends only on the core, not on it)
visit virtio_pci
visit virtio_net

root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}
cp "$bb" "$root/bin/busybox"
for n in "${order[@]}"; do
	f=${modfile[$n]}
	case $f in
	*.ko.xz) command -v xz >/dev/null || skip "xz not found: cannot decompress $f"
		xz -dc "$f" >"$root/lib/modules/$n.ko" ;;
	*.ko.zst) command -v zstd >/dev/null || skip "zstd not found: cannot decompress $f"
		zstd -dqc "$f" >"$root/lib/modules/$n.ko" ;;
	*) cp "$f" "$root/lib/modules/$n.ko" ;;
	esac
done
printf '%s\n' "${order[@]}" >"$root/lib/modules/order"
vm=$(modinfo -F vermagic "$root/lib/modules/virtio_net.ko")
[ "${vm%% *}" = "$krel" ] || fail "virtio_net.ko is for '${vm%% *}', the kernel is $krel"

# ------------------------------------------------------------ initramfs ---
# /init: load the modules, configure eth0, ping the host, send qvh_mb MiB
# of pseudo-random bytes to qvh_host:qvh_port (the sink answers with the
# byte count and SHA-256 it got), then receive qvh_rxmb MiB from
# qvh_host:qvh_rxport; print what it saw and the QVH-PASS marker (or
# QVH-FAIL), then power off (ACPI: QEMU exits with status 0).
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o size=64m tmpfs /tmp
up() { cut -d' ' -f1 /proc/uptime; }
end() { stty -F /dev/console raw 2>/dev/null; poweroff -f; sleep 5; echo "QVH-INIT: poweroff -f returned"; }
bad() { echo "QVH-FAIL $*"; end; }
echo "QVH-INIT uptime=$(up) kernel=$(uname -r)"
: "${qvh_ip:=10.78.0.2}" "${qvh_host:=10.78.0.1}" "${qvh_ping:=10}"
: "${qvh_port:=5001}" "${qvh_mb:=8}" "${qvh_rxport:=5002}" "${qvh_rxmb:=8}"
for m in $(cat /lib/modules/order); do
	insmod /lib/modules/$m.ko || bad "insmod $m"
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -e /sys/class/net/eth0 ] || bad "no eth0 after insmod: $(ls /sys/class/net)"
echo "QVH-ETH0 uptime=$(up) driver=$(basename "$(readlink /sys/class/net/eth0/device/driver)") features=$(cat /sys/class/net/eth0/device/features 2>/dev/null)"
ip link set lo up
ip addr add "$qvh_ip/24" dev eth0 || bad "ip addr add"
ip link set eth0 up || bad "ip link set eth0 up"
ping -c "$qvh_ping" -i 0.2 -W 2 "$qvh_host" >/tmp/ping.log 2>&1
cat /tmp/ping.log
rx=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/ping.log)
rtt=$(sed -n 's|^round-trip min/avg/max = ||p' /tmp/ping.log)
echo "QVH-PING sent=$qvh_ping received=${rx:-0} rtt_min_avg_max=${rtt:-none}"
[ "${rx:-0}" -gt 0 ] || bad "no ping reply"
# The data: pseudo-random (urandom, so it does not compress and its hash
# means something), made before timing so TCG's slow crypto is not counted.
dd if=/dev/urandom of=/tmp/tx bs=1048576 count="$qvh_mb" 2>/dev/null || bad "dd"
txbytes=$(wc -c </tmp/tx)
txsha=$(sha256sum /tmp/tx | cut -d' ' -f1)
t0=$(up)
reply=$(timeout 60 nc "$qvh_host" "$qvh_port" </tmp/tx)
t1=$(up)
echo "QVH-TX bytes=$txbytes sha256=$txsha start=$t0 end=$t1 sink_says=[$reply]"
case $reply in
"$txbytes $txsha") ;;
*) bad "the sink got [$reply], the guest sent [$txbytes $txsha]" ;;
esac
t0=$(up)
timeout 60 nc "$qvh_host" "$qvh_rxport" </dev/null >/tmp/rx
t1=$(up)
rxbytes=$(wc -c </tmp/rx)
rxsha=$(sha256sum /tmp/rx | cut -d' ' -f1)
echo "QVH-RX bytes=$rxbytes sha256=$rxsha start=$t0 end=$t1"
[ "$rxbytes" -eq $((qvh_rxmb * 1048576)) ] || bad "received $rxbytes bytes, want $((qvh_rxmb * 1048576))"
for s in rx_packets rx_bytes tx_packets tx_bytes rx_dropped tx_dropped rx_errors tx_errors; do
	printf '%s=%s ' $s "$(cat /sys/class/net/eth0/statistics/$s)"
done | sed 's/^/QVH-STATS /; s/ $//'
echo
echo "QVH-PASS uptime=$(up)"
end
EOF
chmod 755 "$root/init"
(cd "$root" && find . | "$bb" cpio -o -H newc 2>/dev/null | gzip -6 >"$tmp/initrd.cpio.gz") ||
	fail "cannot build the initramfs"

# ---------------------------------------------------------------- done ---
new=$tmp/cache
mkdir -p "$new"
for f in vmlinux vmlinuz; do
	ln -f "$kcache/$f" "$new/$f" 2>/dev/null || cp "$kcache/$f" "$new/$f" || fail "cannot copy $kcache/$f"
done
mv "$tmp/initrd.cpio.gz" "$new/"
{
	echo "package=$kpkg"
	echo "version=$kver"
	echo "release=$krel"
	echo "pvh_entry=$(sed -n 's/^pvh_entry=//p' "$kcache/info")"
	echo "modules=${order[*]}"
	echo "vmlinuz_bytes=$(stat -c %s "$new/vmlinuz")"
	echo "initrd_bytes=$(stat -c %s "$new/initrd.cpio.gz")"
} >"$new/info"
rm -rf "$cache"
mv "$new" "$cache"
echo "$prog: ready in $cache: $kpkg $kver, modules ${order[*]}" >&2
