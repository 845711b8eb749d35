#!/bin/bash
# SPDX-License-Identifier: MIT
#
# vmm-core SIGKILLed under traffic: dev-pcnet notices, unmaps guest RAM and
# exits 0 within 5 s; dev-net-backend (a server) drops the session and
# waits for the next front-end without spinning (under 50 ms of CPU in 2
# s), holding no more fds than before the session and no guest RAM.
#
#   vmm-kill.sh ELF VMM DEV-PCNET DEV-NET-BACKEND
set -u
[ $# -eq 4 ] || { echo "usage: $0 ELF VMM DEV-PCNET DEV-NET-BACKEND" >&2; exit 2; }
elf=$(realpath "$1") vmm=$(realpath "$2") pcnet=$(realpath "$3") backend=$(realpath "$4")
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespace, TAP)"; exit 77; }
[ -e /dev/kvm ] || { echo "SKIP: no /dev/kvm"; exit 77; }
ns=splitvmm-vk-$$ tap=svvk0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmm-kill.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
die() {
	echo "FAIL: $*" >&2
	for f in "$tmp"/*.log; do echo "--- $(basename "$f")"; tail -n 15 "$f"; done
	exit 1
}
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
fds() { ls "/proc/$1/fd" | wc -l; }
memfds() { grep -c 'memfd:' "/proc/$1/maps"; }

ip netns add "$ns" || die "ip netns add"
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" "$backend" --vhost-user "$tmp/backend.sock" --server --host "tap:$tap" \
	</dev/null >"$tmp/backend.log" 2>&1 &
be=$!; pids+=("$be")
for _ in $(seq 100); do [ -S "$tmp/backend.sock" ] && break; sleep 0.05; done
[ -S "$tmp/backend.sock" ] || die "no back-end socket"
fds0=$(fds "$be")
ip netns exec "$ns" "$vmm" --kernel "$elf" --memory 64 --device-sock "$tmp/pcnet.sock" \
	--cmdline "test=udp-echo ip=10.80.0.2 peer=10.80.0.1 count=0 ms=0" \
	</dev/null >"$tmp/guest.log" 2>"$tmp/vmm.log" &
vm=$!; pids+=("$vm")
for _ in $(seq 100); do [ -S "$tmp/pcnet.sock" ] && break; sleep 0.05; done
ip netns exec "$ns" "$pcnet" --connect "$tmp/pcnet.sock" --backend "$tmp/backend.sock" \
	</dev/null >"$tmp/pcnet.log" 2>&1 &
dev=$!; pids+=("$dev")
ip netns exec "$ns" ip addr add 10.80.0.1/24 dev $tap 2>/dev/null
ip netns exec "$ns" ip link set $tap up
ip netns exec "$ns" ping -c 5 -i 0.2 -W 2 10.80.0.2 >"$tmp/ping.log" 2>&1 ||
	die "no ping replies before the kill"
[ "$(memfds "$be")" -gt 0 ] || die "the back-end maps no guest RAM during the session"
kill -9 "$vm"
wait "$vm" 2>/dev/null
for _ in $(seq 100); do kill -0 "$dev" 2>/dev/null || break; sleep 0.05; done
kill -0 "$dev" 2>/dev/null && die "dev-pcnet still runs 5 s after vmm-core was killed"
wait "$dev"; st=$?
[ "$st" = 0 ] || die "dev-pcnet exit status $st after vmm-core died"
for _ in $(seq 100); do grep -q "front-end disconnected" "$tmp/backend.log" && break; sleep 0.05; done
grep -q "front-end disconnected" "$tmp/backend.log" || die "the back-end did not drop the session"
t0=$(ticks "$be"); sleep 2; t1=$(ticks "$be")
hz=$(getconf CLK_TCK)
[ $(( (t1 - t0) * 1000 / hz )) -lt 50 ] || die "the back-end used $(( (t1 - t0) * 1000 / hz )) ms of CPU in 2 s idle"
[ "$(fds "$be")" -le "$fds0" ] || die "the back-end holds $(fds "$be") fds, $fds0 before the session"
[ "$(memfds "$be")" = 0 ] || die "the back-end still maps guest RAM"
kill -0 "$be" 2>/dev/null || die "the back-end exited"
echo "PASS vmm-core killed: dev-pcnet exited 0, the back-end waits idle ($(fds "$be") fds, no guest RAM mapped)"
