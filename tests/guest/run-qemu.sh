#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Boot the test guest under QEMU (TCG unless told otherwise) and check the
# result: the exit status and lines that must appear on the serial console.
#
#   run-qemu.sh [-s SMP] [-c CPU] [-a ACCEL] [-e STATUS] [-p TEXT]... ELF CMDLINE
#
#   -s SMP     -smp argument (default 1)
#   -c CPU     -cpu model (default max)
#   -a ACCEL   -accel (default tcg)
#   -e STATUS  expected exit status (default 0); with 0, "TEST PASS <test>"
#              must also appear, since a triple fault also exits 0 here
#   -p TEXT    a fixed string that must appear in the output (repeatable)
#
# QEMU exits 0 on the guest's i8042 reset (-no-reboot) and (code << 1) | 1
# on a write of code to isa-debug-exit at 0xf4.
set -u

smp=1 cpu=max accel=tcg want=0 patterns=
qemu=${QEMU:-qemu-system-x86_64}
nl='
'
while getopts s:c:a:e:p: opt; do
	case $opt in
	s) smp=$OPTARG ;;
	c) cpu=$OPTARG ;;
	a) accel=$OPTARG ;;
	e) want=$OPTARG ;;
	p) patterns="$patterns$OPTARG$nl" ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || { echo "usage: $0 [options] ELF CMDLINE" >&2; exit 2; }
elf=$1 append=$2

out=$(timeout 60 "$qemu" -machine pc -accel "$accel" -cpu "$cpu" -m 64 \
	-smp "$smp" -display none -monitor none -serial stdio -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$elf" -append "$append" </dev/null)
status=$?
printf '%s\n' "$out"
echo "exit status $status"

test_name=$(printf '%s\n' "$append" | tr ' ' '\n' | sed -n 's/^test=//p' | tail -n 1)
if [ "$want" = 0 ]; then
	patterns="${patterns}TEST PASS $test_name$nl"
fi
rc=0
if [ "$status" != "$want" ]; then
	echo "FAIL: exit status $status, expected $want" >&2
	rc=1
fi
printf '%s' "$patterns" | while IFS= read -r p; do
	[ -n "$p" ] || continue
	if ! printf '%s\n' "$out" | grep -qF -- "$p"; then
		echo "FAIL: output lacks: $p" >&2
		exit 1
	fi
done || rc=1
exit $rc
