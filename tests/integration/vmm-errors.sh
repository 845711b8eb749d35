#!/usr/bin/env bash
# Every mistake a user can make on the command line or with files gives one
# clear line on stderr and exit status 1, before (or without) any KVM.
set -u
vmm=$1
guest=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

check() {	# check NAME EXPECTED-SUBSTRING -- ARGS...
	local name=$1 want=$2; shift 3
	local out rc
	out=$(timeout 20 "$vmm" "$@" </dev/null 2>&1 >/dev/null); rc=$?
	if [ $rc -ne 1 ] || [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ] ||
	   [[ "$out" != *"$want"* ]]; then
		echo "FAIL $name: status $rc, stderr: $out (wanted one line with '$want')"
		fails=$((fails + 1))
	else
		echo "ok   $name: $out"
	fi
}

printf 'not a kernel at all\n' >"$tmp/junk"
: >"$tmp/empty"
cp /bin/true "$tmp/elf-without-pvh"

check no-kernel "--kernel" --
check missing-kernel "No such file" -- --kernel "$tmp/nope"
check empty-kernel "not a non-empty regular file" -- --kernel "$tmp/empty"
check directory-kernel "not a non-empty regular file" -- --kernel "$tmp"
check junk-kernel "neither an ELF" -- --kernel "$tmp/junk"
check elf-without-pvh "no PVH entry note" -- --kernel "$tmp/elf-without-pvh"
check missing-initrd "initrd" -- --kernel "$guest" --initrd "$tmp/nope"
check bad-memory "--memory" -- --kernel "$guest" --memory 12abc
check huge-memory "too much" -- --kernel "$guest" --memory 99999999999
check bad-cpus "--cpus" -- --kernel "$guest" --cpus 0
check bad-serial "--serial" -- --kernel "$guest" --serial tcp:x
check bad-cpuid "unknown feature" -- --kernel "$guest" --cpuid-clear cx16,nope
check unknown-option "unknown option" -- --kernel "$guest" --bogus
check stray-argument "unexpected argument" -- --kernel "$guest" extra
check device-sock-twice "given twice" -- --kernel "$guest" --device-sock "$tmp/s" --device-sock "$tmp/s"
check device-sock-too-long "not a socket path" -- --kernel "$guest" --device-sock "$tmp/$(printf 'x%.0s' $(seq 120))"
check bad-device-timeout "--device-timeout" -- --kernel "$guest" --device-timeout 5s
check bad-device-wait "--device-wait" -- --kernel "$guest" --device-wait -1
check bad-device-spin "--device-spin-ns" -- --kernel "$guest" --device-spin-ns lots

out=$("$vmm" --help); rc=$?
for o in --kernel --initrd --cmdline --memory --cpus --serial --exit-port --cpuid-clear \
	--device-sock --device-wait --device-timeout --device-spin-ns; do
	if [ $rc -ne 0 ] || [[ "$out" != *"$o"* ]]; then
		echo "FAIL help: status $rc, $o missing"
		fails=$((fails + 1))
	fi
done

# Without /dev/kvm the VMM says so in one line.  (With KVM, too much
# memory for this host is refused instead: also one line.)
if [ ! -e /dev/kvm ]; then
	check no-dev-kvm "/dev/kvm" -- --kernel "$guest"
else
	check more-than-host-ram "RAM" -- --kernel "$guest" --memory 100000000
	# No device process ever connects: a bounded wait, then one line.
	check device-never-attaches "no device attached within 300 ms" -- \
		--kernel "$guest" --device-sock "$tmp/dev.sock" --device-wait 300
	: >"$tmp/not-a-socket"
	check device-sock-is-a-file "exists and is not a socket" -- \
		--kernel "$guest" --device-sock "$tmp/not-a-socket"
fi

[ $fails -eq 0 ] && echo "all error cases ok"
exit $((fails > 0))
