# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# Shared by the scripts that drive dev-net-backend with dpdk-testpmd in a
# network namespace of their own (backend-testpmd-*.sh): sourced after
# they set $ns (the namespace) and $tmp (their directory, testpmd's output
# in $tmp/tp.out).

skip() { echo "SKIP: $*"; exit 77; }
nsx() { ip netns exec "$ns" "$@"; }

# stop PID: TERM, then KILL after 5 s.  The processes run under timeout,
# which passes a TERM on (a KILL would stop timeout alone and orphan its
# child).
stop() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
}

# wait_for FILE PATTERN [COUNT] [SECONDS]: until PATTERN occurs COUNT times.
wait_for() {
	local file=$1 pat=$2 count=${3:-1}
	for _ in $(seq $((${4:-20} * 20))); do
		[ "$(grep -c -- "$pat" "$file" 2>/dev/null)" -ge "$count" ] &&
			return 0
		sleep 0.05
	done
	return 1
}

# stat_of IFACE COUNTER: a kernel statistics counter in the namespace.
stat_of() { nsx cat "/sys/class/net/$1/statistics/$2"; }

# settle IFACE COUNTER: until the counter stops moving (bounded); prints it.
settle() {
	local prev=-1 cur
	for _ in $(seq 40); do
		cur=$(stat_of "$1" "$2")
		[ "$cur" = "$prev" ] && break
		prev=$cur
		sleep 0.1
	done
	echo "$cur"
}

# nic N FIELD: FIELD of testpmd's N-th "NIC statistics for port 0" block.
nic() {
	awk -v n="$1" -v f="$2" '
		/# NIC statistics for port 0 / { blk++ }
		blk == n { for (i = 1; i < NF; i++) if ($i == f) { print $(i + 1); exit } }
	' "$tmp/tp.out"
}
