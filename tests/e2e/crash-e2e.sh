#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Crash isolation under traffic: the guest runs test=rr (UDP request and
# response with byte-exact checks, pings, a canary in its RAM, guard bytes
# after every receive buffer) against a peer in a network namespace, while
# this harness SIGKILLs dev-pcnet, then dev-net-backend, each KILLS times
# at random instants, and restarts each at once (it is the supervisor).
#
#   crash-e2e.sh ELF VMM DEV-PCNET DEV-NET-BACKEND KILLS [SEED]
#
# SEED (default: from the clock; printed) makes the instants reproducible.
# Before the random kills, dev-pcnet is made to die by fault injection
# (SPLITVMM_FAULT=POINT:N) once at each point of crash.points: in the
# middle of INIT, of a register read and a write, between a TX chain's
# descriptors, before a receive hand-back, with an interrupt pending.
#
# Passes when the guest passes (no corruption, no stall longer than
# stall_ms), every fault point was hit, every successor resumed the
# chip's state, and vmm-core exits 0.  Prints per process the time from
# the kill to the first request the peer saw after it (median and max) and
# lost and duplicated exchanges per kill, as "bench:" lines.  Root only.
set -u
[ $# -ge 5 ] || { echo "usage: $0 ELF VMM DEV-PCNET DEV-NET-BACKEND KILLS [SEED]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns-lib.sh"
elf=$(realpath "$1") vmm=$(realpath "$2") pcnet=$(realpath "$3") backend=$(realpath "$4")
kills=$5 seed=${6:-$(( $(date +%s%N) % 100000 ))}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespace, TAP)"; exit 77; }
[ -e /dev/kvm ] || { echo "SKIP: no /dev/kvm"; exit 77; }
points=(init reg-read reg-write tx-chain rx-handback irq-pending)
host_ip=10.79.0.1 guest_ip=10.79.0.2 tap=svcrash0
ns=splitvmm-crash-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/crash-e2e.XXXXXX")
RANDOM=$seed
echo "crash-e2e: seed $seed, $kills kills of each process, fault points: ${points[*]}"

vmm_pid='' pcnet_pid='' backend_pid='' peer_pid=''
cleanup() {
	for p in $pcnet_pid $backend_pid $vmm_pid $peer_pid; do kill -9 "$p" 2>/dev/null; done
	pkill -KILL -f "$tmp/" 2>/dev/null
	wait 2>/dev/null
	netns_del "$ns"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
show() {
	echo "--- guest"; grep -v '^rr: [0-9]* exchanges, ' "$tmp/guest.log" | tail -n 30
	echo "--- vmm-core"; tail -n 20 "$tmp/vmm.log"
	for f in "$tmp"/pcnet.*.log "$tmp"/backend.*.log; do
		[ -e "$f" ] && { echo "--- $(basename "$f")"; tail -n 8 "$f"; }
	done
	[ -e "$tmp/peer.out" ] && { echo "--- peer"; cat "$tmp/peer.out"; }
}
die() { echo "FAIL: $*" >&2; show; exit 1; }
in_ns() { ip netns exec "$ns" "$@"; }
now() { date +%s.%N; }

netns_tap "$ns" $tap $host_ip/24 || die "no namespace with a TAP"

np=0 nb=0
start_pcnet() {	# start_pcnet [FAULT]
	np=$((np + 1))
	# Not through in_ns (a subshell): $! must be the process itself
	# (ip netns exec and env exec it).
	ip netns exec "$ns" env ${1:+SPLITVMM_FAULT=$1} "$pcnet" --connect "$tmp/pcnet.sock" \
		--backend "$tmp/backend.sock" </dev/null >"$tmp/pcnet.$np.log" 2>&1 &
	pcnet_pid=$!
}
start_backend() {
	nb=$((nb + 1))
	ip netns exec "$ns" "$backend" --vhost-user "$tmp/backend.sock" --server --host "tap:$tap" \
		</dev/null >"$tmp/backend.$nb.log" 2>&1 &
	backend_pid=$!
}
# A generous guest run: the kills end it early by telling it nothing; the
# guest stops after ms and the harness waits for it.
secs=$((12 + kills * 2 + ${#points[@]} * 2))
in_ns timeout $((secs + 60)) python3 "$here/net-peer.py" rr-server $host_ip 7 $((secs + 30)) \
	"$tmp/peer.log" >"$tmp/peer.out" 2>&1 &
peer_pid=$!
start_backend
in_ns timeout $((secs + 60)) "$vmm" --kernel "$elf" --memory 64 \
	--cmdline "test=rr ip=$guest_ip peer=$host_ip port=7 ms=$((secs * 1000)) stall_ms=5000" \
	--device-sock "$tmp/pcnet.sock" --device-timeout 20000 --verbose \
	</dev/null >"$tmp/guest.log" 2>"$tmp/vmm.log" &
vmm_pid=$!
for _ in $(seq 100); do [ -S "$tmp/pcnet.sock" ] && [ -S "$tmp/backend.sock" ] && break; sleep 0.05; done
[ -S "$tmp/pcnet.sock" ] || die "vmm-core made no device socket"

exchanges() { sed -n 's/^rr: \([0-9]*\) exchanges.*/\1/p' "$tmp/guest.log" | tail -n1; }
wait_traffic() {	# until the guest reports more exchanges than $1
	for _ in $(seq 200); do
		[ "$(exchanges)" -gt "${1:-0}" ] 2>/dev/null && return 0
		kill -0 "$vmm_pid" 2>/dev/null || die "the VM ended early"
		sleep 0.05
	done
	die "no exchange for 10 s (after $2)"
}
# dead PID SECONDS: until PID is gone; false if it still runs.
dead() {
	for _ in $(seq $(($2 * 50))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.02; done
	return 1
}

# -- fault injection: dev-pcnet dies at each point once --------------------
# Each instance is started with the next point armed and replaces the one
# that just died; the guest must ride through all of them.
kt=()	# deaths: "victim death-time restart-time why"
# arm K: $fault becomes points[K]'s POINT:N, or empty past the last one
# (not in $(...): a subshell would draw from a reseeded RANDOM).
arm() {
	fault=
	[ "$1" -lt ${#points[@]} ] || return 0
	if [ "${points[$1]}" = init ]; then
		fault=init:1	# the guest's driver initialises once, at start
	else
		fault=${points[$1]}:$((1 + RANDOM % 20))
	fi
}
arm 0
start_pcnet "$fault"
for k in "${!points[@]}"; do
	dead "$pcnet_pid" 20 || die "dev-pcnet with SPLITVMM_FAULT=$fault did not reach the point in 20 s"
	t_death=$(now)
	wait "$pcnet_pid" 2>/dev/null
	grep -q "fault injection: SIGKILL at ${points[$k]}" "$tmp/pcnet.$np.log" ||
		die "dev-pcnet #$np died, but not at fault point ${points[$k]}"
	echo "fault point ${points[$k]} hit (pass ${fault#*:}, dev-pcnet #$np)"
	arm $((k + 1))
	start_pcnet "$fault"
	kt+=("pcnet $t_death $(now) fault")
done
wait_traffic "$(exchanges)" "the fault points"

# -- random kills -------------------------------------------------------------
for victim in pcnet backend; do
	for i in $(seq "$kills"); do
		sleep "0.$((300 + RANDOM % 600))"
		kill -0 "$vmm_pid" 2>/dev/null || die "the VM ended during the kills"
		pid=$pcnet_pid
		[ $victim = backend ] && pid=$backend_pid
		t_kill=$(now)
		kill -9 "$pid"
		dead "$pid" 5 || die "$victim survived SIGKILL"
		wait "$pid" 2>/dev/null
		if [ $victim = pcnet ]; then start_pcnet; else start_backend; fi
		kt+=("$victim $t_kill $(now) random")
	done
	wait_traffic "$(exchanges)" "the last $victim kill"
done

wait "$vmm_pid"
status=$?
vmm_pid=''
[ "$status" = 0 ] || die "vmm-core exit status $status"
grep -q "TEST PASS rr" "$tmp/guest.log" || die "the guest did not pass"
kill "$peer_pid" 2>/dev/null; wait "$peer_pid" 2>/dev/null; peer_pid=''
# Every successor resumed the chip (none reset it under the driver).
for k in $(seq 2 "$np"); do
	grep -q "state resumed" "$tmp/pcnet.$k.log" || die "dev-pcnet #$k did not resume the chip's state"
done
torn=$(cat "$tmp"/pcnet.*.log | grep -c "rolled forward")
grep -h "^rr: .*canary" "$tmp/guest.log"

# Recovery: the first new request the peer saw after each kill.
printf '%s\n' "${kt[@]}" >"$tmp/kills"
python3 - "$tmp/kills" "$tmp/peer.log" "$tmp/guest.log" "$kills" <<'PY' || die "recovery figures"
import statistics, sys
kills = [l.split() for l in open(sys.argv[1])]
peer = [l.split() for l in open(sys.argv[2])]
times = [float(t) for t, s, kind in peer if kind == "new"]
dups = sum(1 for t, s, kind in peer if kind == "dup")
guest = open(sys.argv[3]).read()
def bench(name):
    for line in guest.splitlines():
        if line.startswith("bench: " + name + " "):
            return int(line.split()[2])
    return 0
lost, gdups = bench("rr-lost"), bench("rr-dups")
for victim in ("pcnet", "backend"):
    ks = [k for k in kills if k[0] == victim]
    rec, rec_run = [], []
    for _, tk, tr, why in ks:
        tk, tr = float(tk), float(tr)
        after = [t for t in times if t > tr]
        if not after:
            print(f"no traffic after the {victim} kill at {tk}")
            sys.exit(1)
        rec.append((after[0] - tk) * 1000)
        rec_run.append((after[0] - tr) * 1000)
    print(f"{victim} kills, ms from the kill to traffic: " +
          " ".join(f"{r:.0f}({k[3]})" for r, k in zip(rec, ks)))
    print(f"bench: crash-{victim}-kills {len(ks)}")
    print(f"bench: crash-{victim}-recovery-ms median {statistics.median(rec):.1f} max {max(rec):.1f} "
          f"(from the restart: median {statistics.median(rec_run):.1f} max {max(rec_run):.1f})")
n = len(kills)
print(f"bench: crash-lost-per-kill {lost / n:.2f} ({lost} exchanges in {n} kills)")
print(f"bench: crash-dups-per-kill {(dups + gdups) / n:.2f} (peer saw {dups} repeated requests, guest {gdups} repeated replies)")
PY
echo "PASS crash isolation: ${#points[@]} fault points and $kills random kills of each process, seed $seed, $torn torn resumes rolled forward"
