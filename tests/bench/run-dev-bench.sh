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
per() { # per CONFIG FIELD: per frame, from the runs of n1 and n2 frames
	awk -v a="$(stat "$1.1" "$2")" -v b="$(stat "$1.2" "$2")" -v n=$((n2 - n1)) \
		'BEGIN { printf "%.2f", (b - a) / n }'
}
# The paper's Table 3 for this path, one optimization added per row.
rows=(sync posted spin coalesced)
declare -A what vopt dopt
what[sync]="every access waits for dev-pcnet, doorbells sleep"
vopt[sync]="--posted-writes off --coalesced-pio off --device-spin-ns 0"; dopt[sync]="--spin-ns 0"
what[posted]="+ writes posted to the device's ring"
vopt[posted]="--coalesced-pio off --device-spin-ns 0"; dopt[posted]="--spin-ns 0"
what[spin]="+ both sides spin before sleeping"
vopt[spin]="--coalesced-pio off"; dopt[spin]=""
what[coalesced]="+ RAP/BDP writes as KVM coalesced PIO"
vopt[coalesced]=""; dopt[coalesced]=""
for r in "${rows[@]}"; do
	# shellcheck disable=SC2086 # option lists
	run "$r.1" "test=pcnet-linux frames=$n1" "${vopt[$r]}" "$pcnet" ${dopt[$r]}
	# shellcheck disable=SC2086
	run "$r.2" "test=pcnet-linux frames=$n2" "${vopt[$r]}" "$pcnet" ${dopt[$r]}
done
echo
echo "dev-pcnet internal loopback, Linux pcnet32 pattern (xmit, interrupt, NAPI poll), $n2 frames;"
echo "per frame: the difference of a $n1- and a $n2-frame run, so set-up drops out"
printf '%-48s %9s %7s %7s %7s %7s %7s\n' "" "frames/s" "exits" "slot" "posted" "coalsc" "kicks"
for r in "${rows[@]}"; do
	printf '%-48s %9s %7s %7s %7s %7s %7s\n' "${what[$r]}" \
		"$(fig "$r.2" pcnet-loopback-frames)" "$(per "$r" io)" \
		"$(awk -v a="$(per "$r" reads)" -v b="$(per "$r" sync-writes)" 'BEGIN { printf "%.2f", a + b }')" \
		"$(per "$r" posted-writes)" "$(per "$r" coalesced-writes)" "$(per "$r" kicks)"
done
echo "(exits: to userspace; slot: requests a vCPU waited for; posted: writes on the ring;"
echo " coalsc: writes KVM queued without an exit; kicks: eventfd wake-ups of dev-pcnet)"
