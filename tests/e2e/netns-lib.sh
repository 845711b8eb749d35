# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# Shared by the e2e scripts that run a guest against a host in a network
# namespace of their own (crash-e2e.sh, deploy-pod.sh):
#
#   netns_tap NS TAP ADDR/PREFIX
#       makes namespace NS (loopback up) holding a persistent TAP with the
#       host's address: persistent, so it outlives each back-end process,
#       which attaches to it (a restarted one finds it, address and all).
#       False, with a line on stderr, if any step fails.
#   netns_del NS     removes it (nothing if it is gone), for the cleanup
netns_tap() {
	local ns=$1 tap=$2 addr=$3
	ip netns add "$ns" || { echo "ip netns add $ns failed" >&2; return 1; }
	ip -n "$ns" link set lo up &&
		ip -n "$ns" tuntap add dev "$tap" mode tap &&
		ip -n "$ns" addr add "$addr" dev "$tap" &&
		ip -n "$ns" link set "$tap" up ||
		{ echo "cannot set up $tap ($addr) in $ns" >&2; return 1; }
}
netns_del() { ip netns del "$1" 2>/dev/null || true; }
