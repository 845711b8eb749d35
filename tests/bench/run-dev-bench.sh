#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Device-protocol and dev-pcnet benchmark: figures side by side in one run.
#
#   run-dev-bench.sh VMM ELF REFDEV DEV-PCNET
#
# 1. test=bench-dev with vmm-core's in-core test function and the reference
#    device: a register read in-core vs forwarded to the device process,
#    posted writes, interrupt round trips through the irqfd; once with
#    sleeping doorbells (both spin budgets 0), once with the defaults.
# 2. test=pcnet-linux under dev-pcnet: internal-loopback frames per second
#    with the Linux pcnet32 access pattern, and per frame the exits to
#    userspace, reads through the slot, posted writes and doorbell kicks
#    (the difference of two runs of N1 and N2 frames, so set-up drops out).
#
# Needs /dev/kvm; without it, says so and exits 0 (nothing measured).
set -u
vmm=$(realpath "$1") elf=$(realpath "$2") refdev=$(realpath "$3") pcnet=$(realpath "$4")
echo "device-protocol benchmark, $(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -r)"
if [ ! -e /dev/kvm ]; then
	echo "no /dev/kvm here: nothing measured"
	exit 0
fi
[ -d /sys/module/kvm_pvm ] && echo "KVM: nested on PVM (exits cost tens of us; read ratios, not absolutes)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dev-bench.XXXXXX")
vmm_pid='' dev_pid=''
cleanup() {
	[ -n "$dev_pid" ] && kill -9 "$dev_pid" 2>/dev/null
	[ -n "$vmm_pid" ] && kill "$vmm_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# run NAME CMDLINE "VMM-OPTS" DEVICE DEVICE-OPTS...: console in $tmp/NAME.out
run() {
	local name=$1 cmdline=$2 vopts=$3 dev=$4 sock=$tmp/$1.sock
	shift 4
	# shellcheck disable=SC2086 # vopts is a word list on purpose
	timeout 300 "$vmm" --kernel "$elf" --cmdline "$cmdline" --memory 64 \
		--device-sock "$sock" --verbose $vopts </dev/null \
		>"$tmp/$name.out" 2>"$tmp/$name.err" &
	vmm_pid=$!
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	"$dev" --connect "$sock" "$@" </dev/null 2>"$tmp/$name.dev" &
	dev_pid=$!
	wait "$vmm_pid"; local st=$?
	vmm_pid=''
	wait "$dev_pid" 2>/dev/null
	dev_pid=''
	if ! grep -q "TEST PASS" "$tmp/$name.out"; then
		echo "$name: FAILED (status $st)"; cat "$tmp/$name.out" "$tmp/$name.err"
		exit 1
	fi
}
fig() { sed -n "s/^bench: $2 \([0-9]*\).*/\1/p" "$tmp/$1.out" | tail -n1; }
stat() { # stat NAME FIELD: from vmm-core's stats lines
	tr ' ' '\n' <"$tmp/$1.err" | grep -A1 -x "$2" | tail -n1
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

n=${DEV_BENCH_COUNT:-2000}
run sleep "test=bench-dev count=$n" "--testdev --device-spin-ns 0" "$refdev" --spin-ns 0
run spin "test=bench-dev count=$n" "--testdev" "$refdev"
echo
echo "register access, $n each (vCPU and device threads unpinned on $(nproc) CPUs)"
printf '%-34s %14s %14s\n' "" "sleeping" "spinning"
printf '%-34s %11s ns %11s ns\n' "read handled in vmm-core" "$(fig sleep pio-read-in-core)" "$(fig spin pio-read-in-core)"
printf '%-34s %11s ns %11s ns\n' "read forwarded to the device" "$(fig sleep pio-read-forwarded)" "$(fig spin pio-read-forwarded)"
printf '%-34s %14s %14s\n' "  forwarded / in-core" \
	"$(ratio "$(fig sleep pio-read-forwarded)" "$(fig sleep pio-read-in-core)")x" \
	"$(ratio "$(fig spin pio-read-forwarded)" "$(fig spin pio-read-in-core)")x"
printf '%-34s %11s /s %11s /s\n' "posted writes" "$(fig sleep posted-writes)" "$(fig spin posted-writes)"
printf '%-34s %11s /s %11s /s\n' "interrupts through the irqfd" "$(fig sleep irqfd-round-trip)" "$(fig spin irqfd-round-trip)"
printf '%-34s %14s %14s\n' "doorbell kicks" "$(stat sleep kicks)" "$(stat spin kicks)"

n1=${PCNET_BENCH_FRAMES1:-200} n2=${PCNET_BENCH_FRAMES2:-2000}
run p1 "test=pcnet-linux frames=$n1" "" "$pcnet"
run p2 "test=pcnet-linux frames=$n2" "" "$pcnet"
per() { awk -v a="$(stat p1 "$1")" -v b="$(stat p2 "$1")" -v n=$((n2 - n1)) \
	'BEGIN { printf "%.2f", (b - a) / n }'; }
echo
echo "dev-pcnet internal loopback, Linux pcnet32 pattern (xmit, interrupt, NAPI poll), $n2 frames"
printf '%-34s %11s /s\n' "frames" "$(fig p2 pcnet-loopback-frames)"
printf '%-34s %14s\n' "exits to userspace per frame" "$(per io)"
printf '%-34s %14s\n' "reads through the slot per frame" "$(per reads)"
printf '%-34s %14s\n' "posted writes per frame" "$(per posted-writes)"
printf '%-34s %14s\n' "doorbell kicks per frame" "$(per kicks)"
