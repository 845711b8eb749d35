#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Bad wiring between the three processes gives one clear line and a non-zero
# exit, never a hang:
#
#   wiring.sh DEV-PCNET DEV-NET-BACKEND
#
# (The good wirings in other start orders are the e2e-splitvmm-order-*
# tests.)
set -u
pcnet=$1 backend=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wiring.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0

check() {	# check NAME SECONDS EXPECTED-SUBSTRING -- COMMAND...
	local name=$1 secs=$2 want=$3 out rc
	shift 4
	out=$(timeout "$secs" "$@" </dev/null 2>&1 >/dev/null); rc=$?
	if [ $rc -eq 0 ] || [ $rc -eq 124 ] || [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ] ||
	   [[ "$out" != *"$want"* ]]; then
		echo "FAIL $name: status $rc, stderr: $out (wanted one line with '$want')"
		fails=$((fails + 1))
	else
		echo "ok   $name: $out"
	fi
}

check pcnet-no-core 10 "connect to $tmp/none.sock" -- \
	"$pcnet" --connect "$tmp/none.sock"
check pcnet-core-socket-is-a-file 10 "connect to $tmp/file" -- \
	sh -c ": >'$tmp/file'; exec '$pcnet' --connect '$tmp/file'"
check pcnet-bad-mac 5 "--mac" -- "$pcnet" --connect "$tmp/x.sock" --mac 01:00:5e:00:00:01
check pcnet-no-connect 5 "--connect" -- "$pcnet"
check backend-socket-dir-missing 5 "$tmp/no/dir/b.sock" -- \
	"$backend" --vhost-user "$tmp/no/dir/b.sock"
check backend-unknown-host-path 5 "--host" -- \
	"$backend" --vhost-user "$tmp/b.sock" --host carrier-pigeon:1
check backend-no-socket 5 "--vhost-user" -- "$backend"
# vmm-core's side (no device ever attaches, the socket path is a file)
# is in tests/integration/vmm-errors.sh.
[ $fails -eq 0 ] && echo "all wiring errors clear"
exit $((fails > 0))
