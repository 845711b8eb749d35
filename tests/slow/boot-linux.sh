#!/bin/bash
# SPDX-License-Identifier: MIT
#
# boot-linux.sh MODE VMM OUTDIR: one test of the 'slow' suite (README.md).
#
#   qemu-pvh      QEMU 7.2 TCG boots Debian's vmlinux by PVH with the
#                 initramfs and must reach its /init (the marker).  On a PVM
#                 host it also records a QEMU -accel kvm run there, the
#                 reference the vmm-* tests compare against.
#   vmm-pvh       vmm-core boots the same vmlinux by PVH
#   vmm-bzimage   vmm-core boots vmlinuz (the bzImage) through the 64-bit
#                 Linux boot protocol
#
# Where vmm-core runs, and what it must achieve:
#   /dev/kvm here, /sys/module/kvm_pvm absent: a hardware KVM; vmm-core runs
#       here and the kernel must print the marker from /init.
#   /dev/kvm here and /sys/module/kvm_pvm present: KVM nested on a PVM
#       hypervisor, whose instruction emulator stops every VMM early in the
#       kernel's boot (DEVELOPERS.md, issue 2).  The rule there: vmm-core's
#       console must get at least as far as QEMU's on the same KVM, same
#       kernel and same command line, i.e. it must contain the last line
#       QEMU's console reached (compared without timestamps, with numbers
#       masked: see norm()), or the marker.
#   no /dev/kvm: vmm-core runs inside tests/nested/run-in-nested-kvm.sh (a
#       QEMU TCG VM whose kernel loads kvm_amd: a normal KVM, only slow) and
#       the kernel must print the marker.  If that runner cannot provide KVM
#       either, the test is skipped (exit 77) with its reason.
# When the marker is required, vmm-core must also end with status 0 (the
# initramfs ends with 'reboot -f', which reaches vmm-core as an i8042 reset or
# a triple fault: a clean shutdown).
#
# Files in OUTDIR: kernel/ (prepare-kernel.sh's cache), nested/ (the nested
# runner's cache), and per test MODE.console (the guest console), MODE.log
# (QEMU's stderr or vmm-core's messages), MODE.last (the last console line).
#
# Environment: SLOW_APPEND (extra kernel arguments), SLOW_VMM_ARGS (extra
# vmm-core arguments), NESTED_KVM_WORKDIR (nested runner cache; default
# OUTDIR/nested), SLOW_QEMU (default qemu-system-x86_64).
set -u

prog=${0##*/}
[ $# -eq 3 ] || { echo "usage: $prog qemu-pvh|vmm-pvh|vmm-bzimage VMM OUTDIR" >&2; exit 2; }
mode=$1 vmm=$(realpath "$2") out=$3
case $mode in qemu-pvh|vmm-pvh|vmm-bzimage) ;; *) echo "$prog: unknown mode '$mode'" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out" && out=$(cd "$out" && pwd)
kdir=$out/kernel
qemu=${SLOW_QEMU:-qemu-system-x86_64}
marker=SPLITVMM-INIT-REACHED
mem=512

skip() { echo "$prog: SKIP: $*"; exit 77; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# Console lines as the guest printed them: CRs gone, blank lines dropped,
# vmm-core's and the runners' own messages left out.
console_lines() { tr -d '\r' <"$1" | grep -av -e '^[[:space:]]*$' -e '^vmm-core: ' -e '^SLOW-' || true; }
# A console line for comparison: no printk timestamp, every number (decimal
# or hex, as in addresses, sizes and timings that differ between VMMs) as
# '#', blanks squeezed.
norm() {
	sed -E -e 's/^\[ *[0-9]+\.[0-9]+\] ?//' \
		-e 's/(0x)?[0-9a-fA-F]*[0-9][0-9a-fA-F]*/#/g' \
		-e 's/[[:space:]]+/ /g' -e 's/^ //; s/ $//'
}
last_line() { console_lines "$1" | tail -n1; }
# Lines the kernel printed (printk timestamp, or the marker).  QEMU runs a
# bzImage's real-mode setup code, whose "Probing EDD" line vmm-core's
# 64-bit boot protocol rightly never prints, so references are kernel lines.
kernel_lines() { console_lines "$1" | grep -aE -e '^\[ *[0-9]+\.[0-9]+\]' -e "$marker" || true; }
last_kernel_line() { kernel_lines "$1" | tail -n1; }
has_marker() { grep -aq "$marker" "$1"; }
# at_least_as_far OURS REFERENCE: a line of ours begins with the reference's
# last line (begins: that line may have been cut off mid-way), or both have
# the marker.
at_least_as_far() {
	local ref want
	if has_marker "$2"; then
		has_marker "$1"
		return
	fi
	ref=$(last_kernel_line "$2")
	[ -n "$ref" ] || return 0	# the reference's kernel printed nothing
	want=$(printf '%s\n' "$ref" | norm)
	console_lines "$1" | norm |
		W=$want awk 'index($0, ENVIRON["W"]) == 1 { f = 1 } END { exit !f }'
}

if [ -e /dev/kvm ] && [ -d /sys/module/kvm_pvm ]; then
	kvm=pvm
elif [ -e /dev/kvm ]; then
	kvm=hardware
else
	kvm=nested
fi

# The kernel command line, the same for QEMU and vmm-core.  vmm-core has no
# ACPI tables (the MP table at 0x9fc00 and the e820 map are enough: the
# kernel only notes "A valid RSDP was not found"), so nothing else is needed;
# earlyprintk shows the boot before the console driver starts.
append="console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1"
vmm_extra=()
case $kvm in
pvm)
	# What QEMU needed on this kind of host (issue 2): no cmpxchg16b and
	# no arch-capabilities MSR (-cpu host,-arch-capabilities,-cx16), no
	# XSAVE (the emulator lacks xrstor).  vmm-core gets the same CPUID.
	append="$append clearcpuid=xsave"
	vmm_extra=(--cpuid-clear "arch_capabilities,cx16")
	;;
nested)
	# QEMU's TCG does not implement the SVM intercept of XSETBV, so the
	# nested KVM never sees the guest enable AVX state and reports a stale
	# CPUID[0xd,0].EBX; Linux then warns "XSAVE consistency problem" and
	# falls back to FXSAVE anyway.  Hiding XSAVE avoids the noise.
	vmm_extra=(--cpuid-clear xsave)
	;;
esac
[ -z "${SLOW_APPEND:-}" ] || append="$append $SLOW_APPEND"
# shellcheck disable=SC2206
[ -z "${SLOW_VMM_ARGS:-}" ] || vmm_extra+=($SLOW_VMM_ARGS)

"$here/prepare-kernel.sh" "$kdir"
rc=$?
[ $rc -eq 77 ] && exit 77
[ $rc -eq 0 ] || { echo "$prog: FAIL: preparing the kernel failed"; exit 1; }
sed 's/^/kernel: /' "$kdir/info"

# run_qemu NAME TIMEOUT QEMU-ARGS...: QEMU with the console in NAME.console;
# stops early when KVM reports an internal error (QEMU then pauses the
# guest instead of exiting).
run_qemu() {
	local name=$1 limit=$2 qpid t0 status=0
	shift 2
	: >"$out/$name.console"
	t0=$(now)
	echo "+ $qemu $(for a in "$@"; do case $a in *' '*) printf "'%s' " "$a" ;; *) printf '%s ' "$a" ;; esac; done)"
	timeout -k 10 "$limit" "$qemu" "$@" </dev/null >"$out/$name.console" 2>"$out/$name.log" &
	qpid=$!
	while kill -0 $qpid 2>/dev/null; do
		if grep -qiE 'internal error|emulation failure' "$out/$name.log"; then
			sleep 1
			kill $qpid 2>/dev/null
			break
		fi
		sleep 1
	done
	wait $qpid || status=$?
	qemu_secs=$(secs "$t0" "$(now)")
	last_line "$out/$name.console" >"$out/$name.last"
	echo "$name: QEMU status $status after ${qemu_secs}s"
	[ ! -s "$out/$name.log" ] || sed "s/^/$name: qemu stderr: /" "$out/$name.log" | head -n 5
	echo "$name: last console line: $(cat "$out/$name.last")"
	return $status
}

qemu_common=(-machine pc -m "$mem" -nodefaults -no-user-config -display none
	-serial stdio -no-reboot -initrd "$kdir/initrd.cpio.gz")

case $mode in
qemu-pvh)
	command -v "$qemu" >/dev/null 2>&1 || skip "$qemu not found (apt-get install qemu-system-x86)"
	echo "== QEMU TCG, PVH vmlinux (KVM here: $kvm)"
	run_qemu qemu-linux-pvh 600 "${qemu_common[@]}" -accel tcg -cpu max \
		-kernel "$kdir/vmlinux" -append "$append"
	echo "qemu-linux-pvh: console log: $out/qemu-linux-pvh.console"
	if ! has_marker "$out/qemu-linux-pvh.console"; then
		echo "$prog: FAIL: QEMU TCG never reached $marker"
		console_lines "$out/qemu-linux-pvh.console" | tail -n 15 | sed 's/^/  | /'
		exit 1
	fi
	tr -d '\r' <"$out/qemu-linux-pvh.console" | grep -a "$marker"
	echo "qemu-linux-pvh: boot to init in ${qemu_secs}s wall (TCG)"
	exit 0
	;;
vmm-pvh) kernel=$kdir/vmlinux ;;
vmm-bzimage) kernel=$kdir/vmlinuz ;;
esac

name=vmm-linux-${mode#vmm-}
con=$out/$name.console
args=(--kernel "$kernel" --initrd "$kdir/initrd.cpio.gz" --memory "$mem"
	--cmdline "$append" --verbose ${vmm_extra[@]+"${vmm_extra[@]}"})

# On a PVM host neither QEMU nor vmm-core gets through the boot, so both get
# the same time budget, and QEMU boots the same file (vmlinux by PVH, or the
# bzImage, whose xz decompressor alone is slow under the emulator).
if [ $kvm = pvm ]; then
	# The bzImage's xz decompressor runs at CPL0, emulated instruction by
	# instruction here: in 600 s QEMU got no kernel line out of it, so its
	# reference run gets less (SLOW_PVM_BUDGET overrides both).
	if [ "$mode" = vmm-bzimage ]; then budget=${SLOW_PVM_BUDGET:-180}; else budget=${SLOW_PVM_BUDGET:-600}; fi
	command -v "$qemu" >/dev/null 2>&1 ||
		skip "PVM host: $qemu is needed for the reference run and is not installed"
	ref=$out/qemu-kvm-${mode#vmm-}.console
	echo "== reference: QEMU -accel kvm on this PVM host, ${budget}s at most"
	run_qemu "qemu-kvm-${mode#vmm-}" "$budget" "${qemu_common[@]}" \
		-accel kvm -cpu host,-arch-capabilities,-cx16 \
		-kernel "$kernel" -append "$append"
	[ -s "$ref" ] || skip "PVM host: QEMU -accel kvm printed nothing in ${budget}s, so there is no reference to compare with ($(head -n1 "$out/qemu-kvm-${mode#vmm-}.log"))"
	[ -n "$(last_kernel_line "$ref")" ] || skip "PVM host: QEMU -accel kvm got no kernel line out of $(basename "$kernel") in ${budget}s (last line '$(last_line "$ref")', from the boot loader's real-mode code, which vmm-core's 64-bit boot protocol skips), so there is no kernel line to compare with"
else
	budget=900
fi

echo "== vmm-core, $mode (KVM here: $kvm)"
echo "+ vmm-core $(for a in "${args[@]}"; do case $a in *' '*) printf "'%s' " "$a" ;; *) printf '%s ' "$a" ;; esac; done)"
t0=$(now)
if [ $kvm = nested ]; then
	# Inside, SLOW-TIME brackets vmm-core's own run (the outer VM's boot
	# and the copying of files are not part of it).
	nested_out=$(mktemp)
	# shellcheck disable=SC2016 # expanded by the shell in the nested VM
	"$here/../nested/run-in-nested-kvm.sh" \
		--workdir "${NESTED_KVM_WORKDIR:-$out/nested}" --timeout 600 \
		--file "$vmm" --file "$kernel" --file "$kdir/initrd.cpio.gz" \
		-- sh -c 'echo "SLOW-TIME start $(cut -d" " -f1 /proc/uptime)"
			timeout 420 "$@"; rc=$?
			echo "SLOW-TIME end $(cut -d" " -f1 /proc/uptime)"; exit $rc' \
		sh "$vmm" "${args[@]}" >"$nested_out" 2>"$out/$name.log"
	status=$?
	cat "$out/$name.log"
	if [ $status -eq 77 ]; then
		rm -f "$nested_out"
		skip "no /dev/kvm here, and the nested-KVM runner could not provide one: $(tail -n1 "$out/$name.log" | sed 's/^run-in-nested-kvm.sh: SKIP: //')"
	fi
	cp "$nested_out" "$con"
	rm -f "$nested_out"
	grep -a '^vmm-core: ' "$con" >>"$out/$name.log"
	tstart=$(sed -n 's/^SLOW-TIME start //p' "$con" | tr -d '\r')
	tend=$(sed -n 's/^SLOW-TIME end //p' "$con" | tr -d '\r')
	[ -z "$tstart" ] || [ -z "$tend" ] || vmm_secs=$(secs "$tstart" "$tend")
else
	timeout -k 10 "$budget" "$vmm" "${args[@]}" </dev/null >"$con" 2>"$out/$name.log"
	status=$?
	vmm_secs=$(secs "$t0" "$(now)")
fi
wall=$(secs "$t0" "$(now)")
last_line "$con" >"$out/$name.last"
echo "$name: vmm-core status $status; vmm-core ran ${vmm_secs:-?}s, ${wall}s wall in all"
grep -a '^vmm-core: ' "$out/$name.log" | grep -v 'unclaimed MMIO' | sed "s/^/$name: /" | tail -n 5
echo "$name: last console line: $(cat "$out/$name.last")"
echo "$name: console log: $con"

fail() {
	echo "$prog: FAIL: $*"
	console_lines "$con" | tail -n 15 | sed 's/^/  | /'
	exit 1
}

if [ $kvm = pvm ]; then
	echo "$name: QEMU -accel kvm's last kernel line: $(last_kernel_line "$ref")"
	if has_marker "$con"; then
		echo "$name: reached $marker"
		exit 0
	fi
	at_least_as_far "$con" "$ref" ||
		fail "vmm-core's console stops before QEMU's last kernel line '$(last_kernel_line "$ref")' (rule on a PVM host: at least as far as QEMU -accel kvm)"
	echo "$name: got at least as far as QEMU -accel kvm (the rule on a PVM host)"
	exit 0
fi

has_marker "$con" || fail "the kernel never reached /init ($marker missing; vmm-core status $status)"
tr -d '\r' <"$con" | grep -a "$marker"
[ $status -eq 0 ] || fail "the kernel reached /init but vmm-core ended with status $status, not a clean shutdown"
echo "$name: boot to init under vmm-core ($kvm KVM): ${vmm_secs:-?}s"
exit 0
