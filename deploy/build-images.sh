#!/bin/bash
# SPDX-License-Identifier: MIT
#
# One OCI image per process, made from this machine's own files (no
# registry, no base image):
#
#   deploy/build-images.sh [BUILD_DIR] [TAG]     (defaults: build, latest)
#
# Each image holds its binary in /usr/local/bin, the shared libraries ldd
# lists for it (the dynamic loader included), an /etc/passwd and
# /etc/group with a 'splitvmm' user (uid/gid 990) for --user, and for
# dev-net-backend the DPDK drivers a vdev host path needs (EAL dlopens
# every driver in its plugin directory, so only a few go in; set
# SPLITVMM_IMAGE_PMDS to choose others).  The images are
#   localhost/splitvmm-vmm-core:TAG
#   localhost/splitvmm-dev-pcnet:TAG
#   localhost/splitvmm-dev-net-backend:TAG
# The guest kernel is not in any image: the pod mounts it (a volume).
# podman's global options (--root, --runroot, ...) come from
# SPLITVMM_PODMAN_OPTS, so a test can build into private storage.
set -euo pipefail
build=$(realpath "${1:-build}")
tag=${2:-latest}
read -r -a podman_opts <<<"${SPLITVMM_PODMAN_OPTS:-}"
pmds=${SPLITVMM_IMAGE_PMDS:-bus_vdev mempool_ring net_tap net_af_packet net_ring net_null}
uid=990

command -v podman >/dev/null || { echo "build-images: no podman (apt-get install podman)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/splitvmm-images.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# add ROOT FILE...: each file at its real path under ROOT, and each name
# that is a symlink as a link to it: a library reached by two names (DPDK
# drivers are both in pmds-ABI/ and in the library directory) must stay
# one file, or the loader maps it twice (two vdev buses, say).
add() {
	local root=$1 f r
	shift
	for f in "$@"; do
		r=$(readlink -f "$f")
		mkdir -p "$root$(dirname "$r")"
		[ -e "$root$r" ] || cp "$r" "$root$r"
		if [ "$f" != "$r" ] && [ ! -e "$root$f" ]; then
			mkdir -p "$root$(dirname "$f")"
			ln -s "$r" "$root$f"
		fi
	done
}
# libs FILE...: the absolute paths ldd resolves for each file, loader too.
libs() {
	# (ldd heads each file's list with "FILE:" when given several.)
	ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $1 !~ /:$/ { print $1 }' | sort -u
}

image() {	# image NAME BINARY
	local name=$1 bin=$2 root=$tmp/$1 extra=() p d
	[ -x "$bin" ] || { echo "build-images: no $bin (build first: ninja -C ${build})" >&2; exit 1; }
	mkdir -p "$root/usr"
	# The host's merged /usr (/lib -> usr/lib, ...), so ldd's paths hold.
	for d in bin sbin lib lib32 lib64 libx32; do
		[ -L "/$d" ] || continue
		mkdir -p "$root/$(readlink "/$d")"
		ln -s "$(readlink "/$d")" "$root/$d"
	done
	mkdir -p "$root/usr/local/bin" "$root/etc" "$root/run/splitvmm" "$root/tmp" "$root/vm"
	chmod 1777 "$root/tmp"
	# DPDK's EAL keeps its runtime files in /var/run/dpdk.
	mkdir -p "$root/var"
	ln -s ../run "$root/var/run"
	cp -L "$bin" "$root/usr/local/bin/$name"
	if [ "$name" = dev-net-backend ]; then
		for d in /usr/lib/x86_64-linux-gnu/dpdk/pmds-*; do
			[ -d "$d" ] || continue
			for p in $pmds; do
				# One name each: EAL loads every *.so and *.so.ABI
				# (pmds-ABI) in the directory, and would load both.
				f=$d/librte_$p.so.${d##*/pmds-}
				[ -e "$f" ] && extra+=("$f")
			done
		done
		[ ${#extra[@]} -gt 0 ] && add "$root" "${extra[@]}"
	fi
	# glibc dlopens libgcc_s for pthread_cancel and unwinding.
	gcc_s=$(ldconfig -p | awk '$1 == "libgcc_s.so.1" && /x86-64/ && !p { p = $NF } END { print p }')
	# shellcheck disable=SC2046 # one path a line, no spaces in them
	add "$root" $(libs "$bin" "${extra[@]}") ${gcc_s:+"$gcc_s"}
	printf 'root:x:0:0:root:/:/nonexistent\nsplitvmm:x:%d:%d:splitvmm:/nonexistent:/nonexistent\n' $uid $uid >"$root/etc/passwd"
	printf 'root:x:0:\nsplitvmm:x:%d:\n' $uid >"$root/etc/group"
	# glibc's built-in 'files' service; nothing else to load.
	printf 'passwd: files\ngroup: files\n' >"$root/etc/nsswitch.conf"
	tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$tmp/$name.tar" .
	podman "${podman_opts[@]}" import --quiet \
		--change "ENTRYPOINT [\"/usr/local/bin/$name\"]" \
		--change 'WORKDIR /' \
		--change "LABEL org.opencontainers.image.title=splitvmm-$name" \
		"$tmp/$name.tar" "localhost/splitvmm-$name:$tag" >/dev/null
	echo "localhost/splitvmm-$name:$tag ($(du -sh "$root" | cut -f1), $(find "$root" -type f | wc -l) files)"
}

image vmm-core "$build/vmm-core/vmm-core"
image dev-pcnet "$build/dev-pcnet/dev-pcnet"
image dev-net-backend "$build/dev-net-backend/dev-net-backend"
