#!/bin/bash
# run-in-nested-kvm.sh: run a command inside a throw-away Linux VM that has
# /dev/kvm, on a machine that has none.
#
# The VM is QEMU in TCG mode (pure emulation) with an AMD CPU model that has
# SVM; its Debian kernel loads kvm + kvm_amd, so KVM userspace programs run
# for real inside it (nested: slow, but the real KVM API, irqchip, PIT, ...).
#
# usage: run-in-nested-kvm.sh --workdir DIR [options] -- COMMAND [ARGS...]
#   --workdir DIR        cache + scratch directory (kernel, busybox, logs)
#   --timeout SEC        wall-clock limit for the whole VM run (default 600)
#   --file HOST[:GUEST]  copy a file or directory into the VM (repeatable);
#                        GUEST defaults to HOST's absolute path.  For ELF
#                        files the shared libraries listed by ldd come along.
#   --cwd DIR            working directory of COMMAND in the VM (default /)
#   --env NAME=VALUE     export a variable to COMMAND (repeatable)
#   --cpu MODEL          QEMU -cpu (default: max; needs svm)
#   --smp N              vCPUs of the outer VM (default 1; KVM guests inside
#                        may still have any number of vCPUs)
#   --accel OPTS         QEMU -accel (default: tcg, and tcg,thread=single when
#                        --smp > 1: multi-threaded TCG with several vCPUs hangs
#                        the nested kernel now and then, see README.md)
#   --mem MB             RAM of the outer VM (default 2048)
#   --append ARGS        extra kernel command-line arguments
#   -v, --verbose        timings and log locations on stderr
#
# COMMAND runs as root in the VM via busybox sh, with /dev/kvm present; its
# stdout and stderr arrive on this script's stdout (through a second serial
# port, so kernel messages never mix in).  The script exits with COMMAND's
# exit status; 77 (with one line on stderr) when no KVM can be provided,
# 124 on timeout, 125 when the VM died while COMMAND ran.
#
# Environment: NESTED_KVM_KERNEL_PKG (default: what linux-image-amd64
# depends on), NESTED_KVM_QEMU (default qemu-system-x86_64),
# NESTED_KVM_QEMU_ARGS (extra QEMU arguments, split on spaces; for debugging).
set -eu

prog=${0##*/}
die() { echo "$prog: $*" >&2; exit 2; }
skip() { echo "$prog: SKIP: $*" >&2; exit 77; }
note() { [ "$verbose" = 0 ] || echo "$prog: $*" >&2; }

workdir='' timeout_s=600 cwd=/ cpu=max accel='' smp=1 mem=2048 extra_append='' verbose=0
files=() envs=()
while [ $# -gt 0 ]; do
	case $1 in
	--workdir) [ $# -ge 2 ] || die "--workdir needs a value"; workdir=$2; shift 2 ;;
	--timeout) [ $# -ge 2 ] || die "--timeout needs a value"; timeout_s=$2; shift 2 ;;
	--file) [ $# -ge 2 ] || die "--file needs a value"; files+=("$2"); shift 2 ;;
	--cwd) [ $# -ge 2 ] || die "--cwd needs a value"; cwd=$2; shift 2 ;;
	--env) [ $# -ge 2 ] || die "--env needs a value"; envs+=("$2"); shift 2 ;;
	--cpu) [ $# -ge 2 ] || die "--cpu needs a value"; cpu=$2; shift 2 ;;
	--smp) [ $# -ge 2 ] || die "--smp needs a value"; smp=$2; shift 2 ;;
	--mem) [ $# -ge 2 ] || die "--mem needs a value"; mem=$2; shift 2 ;;
	--accel) [ $# -ge 2 ] || die "--accel needs a value"; accel=$2; shift 2 ;;
	--append) [ $# -ge 2 ] || die "--append needs a value"; extra_append=$2; shift 2 ;;
	-v|--verbose) verbose=1; shift ;;
	-h|--help) sed -n '2,/^set -eu/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	--) shift; break ;;
	*) die "unknown option '$1' (COMMAND goes after --)" ;;
	esac
done
[ -n "$workdir" ] || die "--workdir is required"
[ $# -gt 0 ] || die "no COMMAND given (after --)"
case $timeout_s in ''|*[!0-9]*) die "--timeout must be a number of seconds" ;; esac
case $smp in ''|*[!0-9]*) die "--smp must be a number" ;; esac
case $mem in ''|*[!0-9]*) die "--mem must be a number of MiB" ;; esac
if [ -z "$accel" ]; then
	if [ "$smp" -gt 1 ]; then accel=tcg,thread=single; else accel=tcg; fi
fi
for e in ${envs[@]+"${envs[@]}"}; do
	case $e in [A-Za-z_]*=*) ;; *) die "--env wants NAME=VALUE, got '$e'" ;; esac
done

qemu=${NESTED_KVM_QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null 2>&1 || skip "$qemu not found (apt-get install qemu-system-x86)"
command -v gzip >/dev/null 2>&1 || skip "gzip not found"
command -v timeout >/dev/null 2>&1 || skip "timeout (coreutils) not found"

mkdir -p "$workdir" || die "cannot create $workdir"
workdir=$(cd "$workdir" && pwd)
cache=$workdir/cache
run=
qpid=
# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
	if [ -n "$qpid" ]; then
		kill "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	if [ -n "$run" ]; then
		[ ! -f "$run/console.log" ] || cp "$run/console.log" "$workdir/last-console.log" 2>/dev/null || true
		rm -rf "$run"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

t_start=$(date +%s.%N)

# ---------------------------------------------------------------- cache ---
# $cache/base.cpio.gz: busybox, the kvm_amd module chain (deps first) and
# /init; $cache/vmlinuz.  Built once, under a lock, atomically.
modinfo_depends() { # FILE(.ko, uncompressed) -> space-separated names
	tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | head -n1 | tr ',' ' '
}
build_cache() {
	command -v apt-get >/dev/null 2>&1 || skip "apt-get not found: cannot fetch a kernel"
	command -v dpkg-deb >/dev/null 2>&1 || skip "dpkg-deb not found: cannot unpack a kernel"
	local tmp kpkg debs
	tmp=$(mktemp -d "$workdir/cache-build.XXXXXX")
	run=$tmp # removed by cleanup on failure
	kpkg=${NESTED_KVM_KERNEL_PKG:-}
	if [ -z "$kpkg" ]; then
		kpkg=$(timeout 60 apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1) || true
		[ -n "$kpkg" ] || skip "cannot resolve linux-image-amd64 (apt-get update not run?); set NESTED_KVM_KERNEL_PKG"
	fi
	debs=$tmp/debs
	mkdir -p "$debs"
	note "downloading $kpkg busybox-static into $workdir"
	if ! (cd "$debs" && timeout 900 apt-get -q -o APT::Sandbox::User=root \
		download "$kpkg" busybox-static >"$tmp/apt.log" 2>&1); then
		skip "apt-get download $kpkg busybox-static failed: $(grep -E '^E:' "$tmp/apt.log" | head -n1)"
	fi
	mkdir -p "$tmp/k" "$tmp/bb"
	dpkg-deb -x "$debs"/linux-image-*.deb "$tmp/k"
	dpkg-deb -x "$debs"/busybox-static_*.deb "$tmp/bb"
	local vmlinuz moddir bb
	vmlinuz=$(ls "$tmp"/k/boot/vmlinuz-* 2>/dev/null | head -n1)
	moddir=$(ls -d "$tmp"/k/lib/modules/* "$tmp"/k/usr/lib/modules/* 2>/dev/null | head -n1)
	bb=$tmp/bb/bin/busybox
	{ [ -f "$vmlinuz" ] && [ -d "$moddir" ] && [ -x "$bb" ]; } || skip "unexpected layout in $kpkg / busybox-static"

	# Resolve the kvm_amd dependency chain from the modules' .modinfo.
	local root=$tmp/root order="" seen=" "
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,etc,lib/modules/nested}
	add_mod() { # NAME
		local name=$1 f d
		case $seen in *" $name "*) return 0 ;; esac
		seen="$seen$name "
		f=$(find "$moddir" -name "$name.ko*" -o -name "${name//_/-}.ko*" | head -n1)
		[ -n "$f" ] || skip "module $name not found in $kpkg"
		case $f in
		*.ko) cp "$f" "$root/lib/modules/nested/$name.ko" ;;
		*.ko.xz) xz -dc "$f" >"$root/lib/modules/nested/$name.ko" ;;
		*.ko.zst) zstd -qdc "$f" >"$root/lib/modules/nested/$name.ko" ;;
		*.ko.gz) gzip -dc "$f" >"$root/lib/modules/nested/$name.ko" ;;
		*) skip "cannot handle module file $f" ;;
		esac
		for d in $(modinfo_depends "$root/lib/modules/nested/$name.ko"); do
			add_mod "$d"
		done
		order="$order$name "
	}
	add_mod kvm_amd
	echo "$order" >"$root/etc/nested-modules"
	cp "$bb" "$root/bin/busybox"
	cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# PID 1 of the nested-KVM VM (generated by run-in-nested-kvm.sh).
/bin/busybox --install -s /bin
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# /tmp and /run stay on the rootfs (tmpfs already), so --file can put things there
chmod 1777 /tmp
con=/dev/ttyS0 out=/dev/ttyS1
stty -F $con raw -echo 2>/dev/null
stty -F $out raw -echo 2>/dev/null
say() { echo "$*" >$con; }
off() { stty -F $out raw 2>/dev/null; stty -F $con raw 2>/dev/null; sync; poweroff -f; }
say "NESTED-INIT uptime=$(cut -d' ' -f1 /proc/uptime)"
for m in $(cat /etc/nested-modules); do
	if ! msg=$(insmod /lib/modules/nested/$m.ko 2>&1); then
		k=$(dmesg | grep -iE 'kvm|svm|sev|ccp' | tail -n 3 | sed 's/^\[[^]]*\] *//' | tr '\n' ' ')
		say "NESTED-NOKVM=insmod $m failed: $msg; kernel: $k"
		off
	fi
done
if [ ! -c /dev/kvm ]; then
	say "NESTED-NOKVM=no /dev/kvm after loading modules; kernel: $(dmesg | grep -iE 'kvm|svm' | tail -n 3 | tr '\n' ' ')"
	off
fi
chmod 666 /dev/kvm
say "NESTED-KVM-READY uptime=$(cut -d' ' -f1 /proc/uptime) nproc=$(nproc)"
say "NESTED-BEGIN"
sh /nested/cmd </dev/null >$out 2>&1
rc=$?
stty -F $out raw 2>/dev/null # tcsetattr(TCSADRAIN): waits until the output left the UART
say "NESTED-EXIT=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
off
EOF
	chmod 755 "$root/init"
	(cd "$root" && find . | "$bb" cpio -o -H newc 2>/dev/null | gzip -1 >"$tmp/base.cpio.gz")
	local new=$tmp/cache
	mkdir -p "$new"
	mv "$tmp/base.cpio.gz" "$new/"
	cp "$vmlinuz" "$new/vmlinuz"
	cp "$bb" "$new/busybox"
	printf '%s\n%s\n' "$cache_key" "kernel $kpkg, modules $order" >"$new/info"
	rm -rf "$cache"
	mv "$new" "$cache"
	rm -rf "$tmp"
	run=
}

# The first line of $cache/info says what the cache was built for; bump the
# format number whenever /init or the layout changes.
cache_key="format=3 kernel=${NESTED_KVM_KERNEL_PKG:-auto}"
cache_ok() { [ -f "$cache/info" ] && [ "$(head -n1 "$cache/info")" = "$cache_key" ]; }
if ! cache_ok; then
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$workdir/.lock"
		flock -w 1200 9 || die "timed out waiting for the lock on $workdir/.lock"
	fi
	cache_ok || build_cache
	if command -v flock >/dev/null 2>&1; then exec 9>&-; fi
fi
note "cache: $(tail -n1 "$cache/info")"

# ------------------------------------------------------------- this run ---
run=$(mktemp -d "$workdir/run.XXXXXX")
stage=$run/root
mkdir -p "$stage/nested"
chmod 755 "$stage"

is_elf() { [ -f "$1" ] && [ "$(head -c4 "$1" 2>/dev/null | tr -d '\0')" = "$(printf '\177ELF')" ]; }
libs_of() { # ELF -> absolute paths of its shared libraries and interpreter
	{ ldd "$1" 2>/dev/null || true; } | awk '
		$2 == "=>" && $3 ~ /^\// { print $3; next }
		$2 == "=>" && $3 == "not" { print "MISSING:" $1; next }
		$1 ~ /^\// { print $1 }'
}
put() { # HOSTFILE GUESTPATH: copy, dereferencing, creating parents
	mkdir -p "$stage$(dirname "$2")"
	cp -L "$1" "$stage$2"
}
declare -A libs_done=()
add_libs() {
	local f=$1 l
	is_elf "$f" || return 0
	for l in $(libs_of "$f"); do
		case $l in
		MISSING:*) echo "$prog: warning: $f needs ${l#MISSING:}, which ldd cannot find" >&2 ;;
		*) if [ -z "${libs_done[$l]:-}" ]; then
			libs_done[$l]=1
			[ -e "$stage$l" ] || put "$l" "$l"
		fi ;;
		esac
	done
}
for spec in ${files[@]+"${files[@]}"}; do
	host=${spec%%:*}
	if [ "$host" = "$spec" ]; then guest=; else guest=${spec#*:}; fi
	[ -e "$host" ] || die "--file $host: no such file or directory"
	habs=$(cd "$(dirname "$host")" && pwd)/$(basename "$host")
	[ -n "$guest" ] || guest=$habs
	case $guest in /*) ;; *) die "--file $spec: guest path must be absolute" ;; esac
	if [ -d "$host" ]; then
		mkdir -p "$stage$guest"
		cp -a "$host"/. "$stage$guest"/
		while IFS= read -r -d '' f; do add_libs "$f"; done \
			< <(find "$host" -type f -perm -u+x -print0)
	else
		put "$host" "$guest"
		add_libs "$host"
	fi
done

q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
{
	echo "# generated by $prog"
	for e in ${envs[@]+"${envs[@]}"}; do echo "export $(q "$e")"; done
	echo "mkdir -p $(q "$cwd") && cd $(q "$cwd") || exit 127"
	printf 'exec'
	for a in "$@"; do printf ' %s' "$(q "$a")"; done
	echo
} >"$stage/nested/cmd"

(cd "$stage" && find . | "$cache/busybox" cpio -o -H newc 2>/dev/null | gzip -1 >"$run/user.cpio.gz")
cat "$cache/base.cpio.gz" "$run/user.cpio.gz" >"$run/initrd.gz"
note "initramfs $(($(wc -c <"$run/initrd.gz") / 1024)) KiB"

# ----------------------------------------------------------------- boot ---
console=$run/console.log # kept as $workdir/last-console.log by cleanup
: >"$console"
# quiet = loglevel 4: warnings, oopses and lockups reach the console log (never
# COMMAND's output, which has its own serial port)
append="console=ttyS0 panic=-1 quiet mitigations=off $extra_append"
read -r -a qextra <<<"${NESTED_KVM_QEMU_ARGS:-}"
set +e
timeout -k 10 "$timeout_s" "$qemu" -accel "$accel" -cpu "$cpu" -smp "$smp" -m "$mem" \
	-nodefaults -no-user-config -display none -no-reboot \
	-kernel "$cache/vmlinuz" -initrd "$run/initrd.gz" -append "$append" \
	-chardev file,id=con,path="${console//,/,,}" -device isa-serial,chardev=con \
	-chardev stdio,id=out,signal=off -device isa-serial,chardev=out \
	${qextra[@]+"${qextra[@]}"} \
	</dev/null 2>"$run/qemu.err" &
qpid=$!
wait "$qpid"
qrc=$?
qpid=
set -e
t_end=$(date +%s.%N)

marker() { tr -d '\r' <"$console" | sed -n "s/^.*$1//p" | tail -n1; }
note "wall $(echo "$t_end - $t_start" | bc 2>/dev/null || true) s; guest uptime at /dev/kvm: $(marker 'NESTED-KVM-READY uptime=')"
note "console log: $workdir/last-console.log"
began() { tr -d '\r' <"$console" | grep -aq 'NESTED-BEGIN'; }
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	tail=$(tr -d '\r' <"$console" | grep -av '^$' | tail -n 5 | tr '\n' '|')
	began || skip "nested VM did not boot within ${timeout_s}s (-cpu $cpu; console: $tail)"
	echo "$prog: timed out after ${timeout_s}s (console: $tail; log: $workdir/last-console.log)" >&2
	exit 124
fi
reason=$(marker 'NESTED-NOKVM=')
[ -z "$reason" ] || skip "no KVM in the nested VM ($cpu): $reason"
ex=$(marker 'NESTED-EXIT=')
if [ -z "$ex" ]; then
	tail=$(tr -d '\r' <"$console" | grep -av '^$' | tail -n 5 | tr '\n' '|')
	qerr=$(head -n 3 "$run/qemu.err" | tr '\n' ' ')
	if ! began; then
		skip "nested VM did not come up (qemu rc $qrc; $qerr; console: $tail)"
	fi
	echo "$prog: VM died while COMMAND ran (qemu rc $qrc; $qerr; console: $tail)" >&2
	exit 125
fi
ex=${ex%% *}
case $ex in
''|*[!0-9]*) echo "$prog: garbled exit marker '$ex' (log: $workdir/last-console.log)" >&2; exit 125 ;;
esac
exit "$ex"
