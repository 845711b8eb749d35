#!/bin/bash
# SPDX-License-Identifier: MIT
#
# prepare-kernel.sh CACHEDIR
#
# Fills CACHEDIR with what the 'slow' suite boots, once (later runs reuse it):
#
#   vmlinuz          Debian's stock kernel as shipped (a bzImage), from the
#                    package linux-image-amd64 depends on, fetched with
#                    'apt-get download' (never installed); only this member
#                    is unpacked (dpkg-deb --fsys-tarfile | tar), not the
#                    ~400 MB of modules
#   vmlinux          the ELF kernel inside that bzImage, decompressed; it
#                    carries the Xen PVH entry note, so QEMU's -kernel and
#                    vmm-core boot it by PVH
#   initrd.cpio.gz   a busybox initramfs whose /init prints the marker
#                    SPLITVMM-INIT-REACHED on the console, then 'reboot -f'
#   info             package, version, compression, sizes (one 'key=value' a line)
#   kernel.deb       the package as fetched, for callers that need more of it
#                    (tests/e2e/qemu-vhost takes its virtio_net modules)
#   busybox          the static busybox the initramfs is made of
#
# Concurrent callers serialise on CACHEDIR.lock (flock); the directory is
# built aside and renamed into place, so a reader never sees half of it.
#
# Exit status: 0 ready; 77 (skip, one line on stderr saying why) when the
# kernel or busybox cannot be fetched or a needed tool is missing; 1 when what
# was fetched is not what we expect (our bug or Debian's change: a failure).
set -eu

prog=${0##*/}
skip() { echo "$prog: SKIP: $*" >&2; exit 77; }
fail() { echo "$prog: ERROR: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: $prog CACHEDIR" >&2; exit 2; }
mkdir -p "$(dirname "$1")"
cache=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -f "$cache/info" ] && exit 0

for t in apt-get apt-cache dpkg-deb flock od gzip; do
	command -v $t >/dev/null 2>&1 || skip "$t not found"
done
exec 9>"$cache.lock"
flock -w 1800 9 || fail "timed out waiting for $cache.lock"
[ -f "$cache/info" ] && exit 0		# another run built it meanwhile

tmp=$(mktemp -d "$cache.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# ------------------------------------------------------------- download ---
kpkg=${SLOW_KERNEL_PKG:-}
if [ -z "$kpkg" ]; then
	kpkg=$(timeout 60 apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1) || true
	[ -n "$kpkg" ] ||
		skip "cannot resolve linux-image-amd64's kernel package (no apt lists? run apt-get update); or set SLOW_KERNEL_PKG"
fi
# busybox for the initramfs: the installed busybox-static if there is one,
# else its package, downloaded like the kernel.
bb=
if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
	bb=$(dpkg-query -L busybox-static | grep -m1 '/bin/busybox$') || bb=
fi
pkgs=("$kpkg")
[ -n "$bb" ] || pkgs+=(busybox-static)
mkdir -p "$tmp/debs"
echo "$prog: downloading ${pkgs[*]}" >&2
if ! (cd "$tmp/debs" && timeout 900 apt-get -q -o APT::Sandbox::User=root \
	download "${pkgs[@]}" >"$tmp/apt.log" 2>&1); then
	skip "apt-get download ${pkgs[*]} failed: $(grep -m1 -E '^(E|W):' "$tmp/apt.log" || tail -n1 "$tmp/apt.log")"
fi
debs=("$tmp"/debs/linux-image-*.deb)
kdeb=${debs[0]}
[ -f "$kdeb" ] || fail "apt-get download $kpkg left no linux-image-*.deb"
kver=$(dpkg-deb -f "$kdeb" Version)
mkdir -p "$tmp/k"
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$tmp/k" --wildcards './boot/vmlinuz-*' ||
	fail "cannot unpack $kdeb"
found=("$tmp"/k/boot/vmlinuz-*)
vmlinuz=${found[0]}
[ -f "$vmlinuz" ] || fail "$kdeb has no /boot/vmlinuz-*"
if [ -z "$bb" ]; then
	mkdir -p "$tmp/bb"
	dpkg-deb -x "$tmp"/debs/busybox-static_*.deb "$tmp/bb" || fail "cannot unpack busybox-static"
	bb=$tmp/bb/bin/busybox
fi
[ -x "$bb" ] || fail "no busybox binary in busybox-static"

# -------------------------------------------------- bzImage -> vmlinux ---
# The setup header says where the compressed payload is: it starts at
# payload_offset (0x248) from the protected-mode code, which follows the
# (setup_sects + 1) * 512 bytes of real-mode setup, and is payload_length
# (0x24c) bytes long (boot protocol 2.08+).  Its first bytes name the
# compressor.  The payload may end with the 4-byte uncompressed size (the
# kernel's size_append), which the decompressors report as trailing data, so
# their exit status is ignored and the result is checked instead.
u8() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
u16() { od -An -tu2 -j "$2" -N2 "$1" | tr -d ' '; }
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
hex() { od -An -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }

[ "$(hex "$vmlinuz" 0x202 4)" = 48647253 ] || fail "$vmlinuz is not a bzImage (no HdrS)"
proto=$(u16 "$vmlinuz" $((0x206)))
[ "$proto" -ge $((0x208)) ] || fail "$vmlinuz: boot protocol $proto < 2.08, no payload fields"
setup_sects=$(u8 "$vmlinuz" $((0x1f1)))
[ "$setup_sects" -ne 0 ] || setup_sects=4
poff=$(( (setup_sects + 1) * 512 + $(u32 "$vmlinuz" $((0x248))) ))
plen=$(u32 "$vmlinuz" $((0x24c)))
magic=$(hex "$vmlinuz" $poff 6)
case $magic in
fd377a585a00*) comp=xz;   dec=(xz -dcq --single-stream) ;;
28b52ffd*)     comp=zstd; dec=(zstd -dcq) ;;
1f8b*)         comp=gzip; dec=(gzip -dcq) ;;
5d0000*)       comp=lzma; dec=(xz -dcq --format=lzma) ;;
425a68*)       comp=bzip2; dec=(bzip2 -dcq) ;;
02214c18*)     comp=lz4;  dec=(lz4 -dcq) ;;
*) fail "$vmlinuz: unknown payload magic $magic at offset $poff" ;;
esac
command -v "${dec[0]}" >/dev/null 2>&1 || skip "${dec[0]} not found: cannot decompress the $comp kernel payload"
tail -c +$((poff + 1)) "$vmlinuz" | head -c "$plen" | "${dec[@]}" >"$tmp/vmlinux" 2>"$tmp/dec.log" || true
[ "$(hex "$tmp/vmlinux" 0 4)" = 7f454c46 ] ||
	fail "decompressing the $comp payload of $vmlinuz ($plen bytes at $poff) gave no ELF: $(head -n1 "$tmp/dec.log")"

# The decompressed stream is vmlinux.bin followed by the relocation table
# (CONFIG_X86_NEED_RELOCS); cut it at the end of the section headers.
shoff=$(od -An -tu8 -j 40 -N8 "$tmp/vmlinux" | tr -d ' ')
shentsize=$(u16 "$tmp/vmlinux" 58)
shnum=$(u16 "$tmp/vmlinux" 60)
elf_end=$((shoff + shentsize * shnum))
if [ "$elf_end" -gt 64 ] && [ "$elf_end" -lt "$(stat -c %s "$tmp/vmlinux")" ]; then
	truncate -s "$elf_end" "$tmp/vmlinux"
fi

# The PVH entry: a note named "Xen" of type 18 (XEN_ELFNOTE_PHYS32_ENTRY) in
# a PT_NOTE segment, which is what QEMU and vmm-core look for.
pvh_entry=$(python3 - "$tmp/vmlinux" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
if d[:4] != b"\x7fELF" or d[4] != 2:
    sys.exit("not an ELF64")
phoff, = struct.unpack_from("<Q", d, 32)
phentsize, phnum = struct.unpack_from("<HH", d, 54)
for i in range(phnum):
    p_type, _, p_off, _, _, p_filesz = struct.unpack_from("<IIQQQQ", d, phoff + i * phentsize)
    if p_type != 4:
        continue
    off, end = p_off, p_off + p_filesz
    while end - off >= 12:
        namesz, descsz, ntype = struct.unpack_from("<III", d, off)
        name = d[off + 12: off + 12 + namesz]
        desc = off + 12 + ((namesz + 3) & ~3)
        if name == b"Xen\0" and ntype == 18:
            v = int.from_bytes(d[desc:desc + descsz], "little")
            print("0x%x" % v)
            sys.exit(0)
        off = desc + ((descsz + 3) & ~3)
sys.exit("no Xen PVH note (type 18) in any PT_NOTE segment")
PY
) || fail "$tmp/vmlinux (from $kpkg) has no PVH entry note: the kernel lacks CONFIG_PVH, so the PVH tests cannot run"

# ------------------------------------------------------------ initramfs ---
# /init runs with no stdin/stdout (the initramfs has no /dev/console node,
# so the kernel could not open one): it mounts devtmpfs and opens the
# console itself.  'stty' (tcsetattr with TCSADRAIN) waits until the marker
# has left the UART before 'reboot -f'; without ACPI the reboot goes through
# the i8042 or a triple fault, which QEMU (-no-reboot) and vmm-core both
# treat as the end of the VM.
root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys}
cp "$bb" "$root/bin/busybox"
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1
/bin/busybox mount -t proc proc /proc
echo "SPLITVMM-INIT-REACHED uptime=$(/bin/busybox cut -d' ' -f1 /proc/uptime) kernel=$(/bin/busybox uname -r)"
/bin/busybox stty -F /dev/console raw 2>/dev/null
/bin/busybox reboot -f
/bin/busybox sleep 5
echo "SPLITVMM-INIT: reboot -f returned"
EOF
chmod 755 "$root/init"
(cd "$root" && find . | "$bb" cpio -o -H newc 2>/dev/null | gzip -9 >"$tmp/initrd.cpio.gz") ||
	fail "cannot build the initramfs"

# ---------------------------------------------------------------- done ---
new=$tmp/cache
mkdir -p "$new"
mv "$vmlinuz" "$new/vmlinuz"
mv "$kdeb" "$new/kernel.deb"
cp "$bb" "$new/busybox"
mv "$tmp/vmlinux" "$tmp/initrd.cpio.gz" "$new/"
{
	echo "package=$kpkg"
	echo "version=$kver"
	echo "deb=$(basename "$kdeb")"
	echo "compression=$comp"
	echo "boot_protocol=$(printf '%d.%02d' $((proto >> 8)) $((proto & 255)))"
	echo "pvh_entry=$pvh_entry"
	echo "vmlinuz_bytes=$(stat -c %s "$new/vmlinuz")"
	echo "vmlinux_bytes=$(stat -c %s "$new/vmlinux")"
	echo "initrd_bytes=$(stat -c %s "$new/initrd.cpio.gz")"
} >"$new/info"
rm -rf "$cache"
mv "$new" "$cache"
echo "$prog: ready in $cache: $kpkg $kver ($comp payload)" >&2
