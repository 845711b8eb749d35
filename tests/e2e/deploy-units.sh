#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The systemd template units of deploy/systemd pass systemd-analyze verify:
#
#   deploy-units.sh BUILD_DIR
#
# The units are copied to a directory of this test's own, their
# /usr/local/bin binaries rewritten to BUILD_DIR's (verify checks that
# each ExecStart= is executable), and one instance of the three is
# verified together (so BindsTo=/Wants= between them resolve).  verify
# exits 0 on a mere warning (an unknown key, a bad value ignored), so any
# line it prints fails the test too; a unit with a bad key, made here,
# must fail it (the check can fail).  Then the relations the README
# promises: device units restart alone (Restart=always) and go with their
# VM (BindsTo=, PartOf=), the VM does not need them (Wants= only), and
# /dev/kvm and /dev/net/tun each go to one unit only.  Needs no root;
# skips (77) without systemd-analyze (tests/deps.sh installs systemd).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
units=$(cd "$here/../../deploy/systemd" && pwd)
build=$(realpath "$1")
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze (apt-get install systemd)"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/deploy-units.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

copy() {	# copy DIR: the units into DIR, binaries from the build
	mkdir -p "$1"
	for u in "$units"/*.service; do
		sed -e "s|/usr/local/bin/vmm-core|$build/vmm-core/vmm-core|" \
			-e "s|/usr/local/bin/dev-pcnet|$build/dev-pcnet/dev-pcnet|" \
			-e "s|/usr/local/bin/dev-net-backend|$build/dev-net-backend/dev-net-backend|" \
			"$u" >"$1/$(basename "$u")"
	done
	! grep -n /usr/local/bin "$1"/*.service || fail "an ExecStart= not rewritten"
}
verify() {	# verify DIR: true if clean (status 0, nothing printed)
	local out rc=0
	# One instance of each, from DIR (the unit path of the files named).
	out=$(cd "$1" && SYSTEMD_LOG_COLOR=0 timeout 60 systemd-analyze verify \
		"$1/splitvmm-vm@t1.service" "$1/splitvmm-pcnet@t1.service" \
		"$1/splitvmm-backend@t1.service" 2>&1) || rc=$?
	[ -n "$out" ] && echo "$out"
	[ "$rc" = 0 ] && [ -z "$out" ]
}

copy "$tmp/ok"
verify "$tmp/ok" || fail "systemd-analyze verify found problems in deploy/systemd (above)"
echo "systemd-analyze verify: the three units are clean"

# The check itself can fail: an unknown key, and a unit it names missing.
copy "$tmp/bad1"
sed -i 's/^Restart=always/Restart=always\nRestartt=always/' "$tmp/bad1/splitvmm-pcnet@.service"
! verify "$tmp/bad1" >/dev/null || fail "verify accepted a unit with an unknown key"
copy "$tmp/bad2"
rm "$tmp/bad2/splitvmm-backend@.service"
! verify "$tmp/bad2" >/dev/null 2>&1 || fail "verify accepted a missing unit"
echo "self-check: a bad key and a missing unit are caught"

# key UNIT: its "Key=value" lines (no comments, continuations joined).
keys() { sed -e ':a' -e '/\\$/{N;s/\\\n//;ba' -e '}' "$units/$1" | grep -v '^[#;]' ; }
has() { keys "$1" | grep -qx -- "$2" || fail "$1: no line '$2'"; }
hasnt() { ! keys "$1" | grep -q -- "$2" || fail "$1: must not have '$2'"; }
for d in pcnet backend; do
	u=splitvmm-$d@.service
	has "$u" 'Restart=always'
	has "$u" 'BindsTo=splitvmm-vm@%i.service'
	has "$u" 'PartOf=splitvmm-vm@%i.service'
	has "$u" 'After=splitvmm-vm@%i.service.*'
	has "$u" 'NoNewPrivileges=yes'
	has "$u" 'ProtectSystem=strict'
	has "$u" 'ReadWritePaths=/run/splitvmm/%i'
	has "$u" 'ExecStart=.* --sandbox .*'
	hasnt "$u" 'RuntimeDirectory='	# the VM's: a restart here must not remove it
	hasnt "$u" 'DeviceAllow=/dev/kvm'
done
v=splitvmm-vm@.service
has $v 'Wants=splitvmm-pcnet@%i.service splitvmm-backend@%i.service'
hasnt $v '^Requires=\|^BindsTo=\|^PartOf='	# a device restart leaves the VM alone
has $v 'RuntimeDirectory=splitvmm/%i'
has $v 'DeviceAllow=/dev/kvm rw'
has $v 'CapabilityBoundingSet='
has $v 'EnvironmentFile=/etc/splitvmm/%i.conf'
has $v 'ExecStart=.* --sandbox .*'
has splitvmm-pcnet@.service 'CapabilityBoundingSet='
has splitvmm-pcnet@.service 'PrivateDevices=yes'
has splitvmm-backend@.service 'DeviceAllow=/dev/net/tun rw'
has splitvmm-backend@.service 'CapabilityBoundingSet=CAP_NET_ADMIN'
hasnt $v 'DeviceAllow=/dev/net/tun'
echo "PASS units: verified; restarts, dependencies, devices and capabilities as documented"
