#!/bin/sh
# SPDX-License-Identifier: MIT
#
# QEMU with an AMD PCnet-PCI II (QEMU's own -device pcnet) and no host
# network, for tests/guest/run-qemu.sh as its $QEMU: the guest-qemu-pcnet-*
# tests.  The scenarios use internal loopback, so the NIC needs no peer
# ("-nic none" also drops the default e1000 and its user-mode network);
# "romfile=" keeps iPXE's option ROM from touching the chip first.
# QEMU_REAL is the real binary.
exec "${QEMU_REAL:-qemu-system-x86_64}" "$@" -nic none -device pcnet,romfile=
