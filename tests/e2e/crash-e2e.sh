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
#
# CRASH_E2E_SANDBOX=1: all three processes run with --sandbox (and, with
# CRASH_E2E_USER=USER, --user USER), and a sandbox phase follows the fault
# points: each process's /proc status shows the sandbox (seccomp filter, no
# new privileges, no capabilities, the user), vmm-core's vCPU thread has
# one filter more than its other threads; dev-pcnet's file-system lockdown
# refuses an open; dev-pcnet and dev-net-backend each try a forbidden
# system call (SPLITVMM_FAULT=...:syscall) and die of SIGSYS while the
# guest rides through; vmm-core's device thread may make a memfd at a
# re-attach.  After the run, vmm-core's vCPU filter is proved on its own:
# a vCPU thread that tries memfd_create kills the VM with SIGSYS (and
# without --sandbox the same try is allowed).
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
sandbox=${CRASH_E2E_SANDBOX:-} user=${CRASH_E2E_USER:-}
sb=() vmm_fault=
if [ -n "$sandbox" ]; then
	sb=(--sandbox ${user:+--user "$user"})
	# The first re-attach (of the init fault's successor) makes memfds
	# in vmm-core's device thread, and one more by fault injection.
	vmm_fault=attach:2:memfd
	if [ -n "$user" ]; then
		id "$user" >/dev/null 2>&1 || { echo "SKIP: no user $user"; exit 77; }
		chmod 0711 "$tmp"
	fi
fi
# The sockets' directory: with --user it belongs to that user, who makes
# sockets in it after the switch.
run=$tmp/run
mkdir "$run"
[ -n "$user" ] && chown "$user" "$run"

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
	ip netns exec "$ns" env ${1:+SPLITVMM_FAULT=$1} "$pcnet" --connect "$run/pcnet.sock" \
		--backend "$run/backend.sock" "${sb[@]}" </dev/null >"$tmp/pcnet.$np.log" 2>&1 &
	pcnet_pid=$!
}
start_backend() {	# start_backend [FAULT]
	nb=$((nb + 1))
	ip netns exec "$ns" env ${1:+SPLITVMM_FAULT=$1} "$backend" --vhost-user "$run/backend.sock" \
		--server --host "tap:$tap" "${sb[@]}" </dev/null >"$tmp/backend.$nb.log" 2>&1 &
	backend_pid=$!
}
# A generous guest run: the kills end it early by telling it nothing; the
# guest stops after ms and the harness waits for it.
secs=$((12 + kills * 2 + ${#points[@]} * 2))
in_ns timeout $((secs + 60)) python3 "$here/net-peer.py" rr-server $host_ip 7 $((secs + 30)) \
	"$tmp/peer.log" >"$tmp/peer.out" 2>&1 &
peer_pid=$!
start_backend
[ -n "$sandbox" ] && secs=$((secs + 12))	# the sandbox phase
in_ns timeout $((secs + 60)) env ${vmm_fault:+SPLITVMM_FAULT=$vmm_fault} "$vmm" --kernel "$elf" --memory 64 \
	--cmdline "test=rr ip=$guest_ip peer=$host_ip port=7 ms=$((secs * 1000)) stall_ms=5000" \
	--device-sock "$run/pcnet.sock" --device-timeout 20000 --verbose "${sb[@]}" \
	</dev/null >"$tmp/guest.log" 2>"$tmp/vmm.log" &
vmm_pid=$!
for _ in $(seq 100); do [ -S "$run/pcnet.sock" ] && [ -S "$run/backend.sock" ] && break; sleep 0.05; done
[ -S "$run/pcnet.sock" ] || die "vmm-core made no device socket"
if grep -q "Landlock is not available" "$tmp/vmm.log" "$tmp"/backend.*.log 2>/dev/null; then
	echo "SKIP: $(grep -h -m1 "Landlock is not available" "$tmp/vmm.log" "$tmp"/backend.*.log)"
	exit 77
fi

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

# -- the sandbox --------------------------------------------------------------
# field PID NAME: a field of /proc/PID/status.
field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
sandboxed() {	# sandboxed PID NAME: the sandbox as /proc shows it
	local f want_uid=0
	[ "$(field "$1" Seccomp)" = 2 ] || die "$2: not under a seccomp filter"
	[ "$(field "$1" NoNewPrivs)" = 1 ] || die "$2: no_new_privs not set"
	for f in CapInh CapPrm CapEff CapBnd CapAmb; do
		[ "$(field "$1" $f)" = 0000000000000000 ] || die "$2: $f is $(field "$1" $f)"
	done
	[ -n "$user" ] && want_uid=$(id -u "$user")
	[ "$(field "$1" Uid | awk '{print $1 $2 $3 $4}')" = "$want_uid$want_uid$want_uid$want_uid" ] ||
		die "$2: uids $(field "$1" Uid), not $want_uid"
}
# expect_sigsys PID WHO: PID dies of SIGSYS within 20 s.
expect_sigsys() {
	dead "$1" 20 || die "$2 did not reach its fault point in 20 s"
	wait "$1" 2>/dev/null
	local st=$?
	[ "$st" = 159 ] || die "$2 ended with status $st, not 159 (SIGSYS)"
}
if [ -n "$sandbox" ]; then
	vmm_real=
	for p in $(pgrep -x vmm-core); do
		tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "$run/pcnet.sock" && vmm_real=$p
	done
	[ -n "$vmm_real" ] || die "cannot find vmm-core's process"
	sandboxed "$vmm_real" vmm-core
	sandboxed "$pcnet_pid" dev-pcnet
	sandboxed "$backend_pid" dev-net-backend
	main_f=$(field "$vmm_real" Seccomp_filters) vcpu_f=
	for t in /proc/"$vmm_real"/task/*; do
		[ "$(cat "$t/comm")" = vcpu0 ] && vcpu_f=$(sed -n 's/^Seccomp_filters:[[:space:]]*//p' "$t/status")
	done
	[ -n "$vcpu_f" ] && [ "$vcpu_f" -gt "$main_f" ] ||
		die "vmm-core's vCPU thread has ${vcpu_f:-no} seccomp filters, its main thread $main_f"
	grep -q "memfd_create was allowed" "$tmp/vmm.log" ||
		die "vmm-core's device thread could not make a memfd at a re-attach"
	echo "sandbox: seccomp, no_new_privs, no capabilities${user:+, user $user} in all three; vCPU filters $vcpu_f, other threads $main_f"

	# dev-pcnet's file system: an open is refused, the device goes on.
	kill -9 "$pcnet_pid"; dead "$pcnet_pid" 5; wait "$pcnet_pid" 2>/dev/null
	t_death=$(now)
	start_pcnet reg-write:3:open
	kt+=("pcnet $t_death $(now) sandbox")
	for _ in $(seq 200); do grep -q "open /etc/hostname: " "$tmp/pcnet.$np.log" && break; sleep 0.05; done
	grep -q "open /etc/hostname: Permission denied" "$tmp/pcnet.$np.log" ||
		die "dev-pcnet's file-system lockdown: $(grep -h "open /etc/hostname: " "$tmp/pcnet.$np.log")"
	wait_traffic "$(exchanges)" "the open probe"
	echo "sandbox: dev-pcnet's open of /etc/hostname refused, the device went on"

	# A forbidden system call kills a device, and only the device.
	kill -9 "$pcnet_pid"; dead "$pcnet_pid" 5; wait "$pcnet_pid" 2>/dev/null
	start_pcnet reg-write:3:syscall
	expect_sigsys "$pcnet_pid" dev-pcnet
	grep -q "socket(AF_INET) at reg-write" "$tmp/pcnet.$np.log" || die "dev-pcnet died before its probe"
	t_death=$(now)
	start_pcnet
	kt+=("pcnet $t_death $(now) sandbox")
	wait_traffic "$(exchanges)" "dev-pcnet's forbidden system call"
	kill -9 "$backend_pid"; dead "$backend_pid" 5; wait "$backend_pid" 2>/dev/null
	start_backend tx:3:syscall
	expect_sigsys "$backend_pid" dev-net-backend
	grep -q "socket(AF_INET) at tx" "$tmp/backend.$nb.log" || die "dev-net-backend died before its probe"
	t_death=$(now)
	start_backend
	kt+=("backend $t_death $(now) sandbox")
	wait_traffic "$(exchanges)" "dev-net-backend's forbidden system call"
	echo "sandbox: a forbidden system call killed dev-pcnet, then dev-net-backend (SIGSYS); the guest rode through"
fi

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
# Every successor resumed the chip (none reset it under the driver).  One
# armed with a fault point may die at it while still resuming (a pending
# interrupt raised, a torn hand-back finished), before it says how it
# attached; a reset there would have stopped the guest's traffic, which
# the checks above follow.
for k in $(seq 2 "$np"); do
	if grep -q "attached generation" "$tmp/pcnet.$k.log"; then
		grep -q "state resumed" "$tmp/pcnet.$k.log" || die "dev-pcnet #$k did not resume the chip's state"
	else
		grep -q "fault injection: SIGKILL at" "$tmp/pcnet.$k.log" ||
			die "dev-pcnet #$k never attached"
	fi
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
if [ -n "$sandbox" ]; then
	# vmm-core's vCPU filter: memfd_create, which its device threads may
	# do, kills the VM from a vCPU thread; without the sandbox it works.
	timeout 60 env SPLITVMM_FAULT=pio:20:memfd "$vmm" --kernel "$elf" --cmdline test=hello \
		"${sb[@]}" </dev/null >"$tmp/vcpu.log" 2>&1
	st=$?
	[ "$st" = 159 ] && grep -q "memfd_create at pio" "$tmp/vcpu.log" &&
		! grep -q "memfd_create was allowed" "$tmp/vcpu.log" ||
		die "a vCPU thread's memfd_create: status $st, $(grep -h "fault injection" "$tmp/vcpu.log" | tail -n1)"
	timeout 60 env SPLITVMM_FAULT=pio:20:memfd "$vmm" --kernel "$elf" --cmdline test=hello \
		</dev/null >"$tmp/vcpu.log" 2>&1
	grep -q "memfd_create was allowed" "$tmp/vcpu.log" || die "without --sandbox, a vCPU's memfd_create failed"
	echo "sandbox: a vCPU thread's memfd_create killed vmm-core (SIGSYS); without --sandbox it is allowed"
fi
echo "PASS crash isolation: ${#points[@]} fault points and $kills random kills of each process, seed $seed, $torn torn resumes rolled forward${sandbox:+, all three sandboxed${user:+ as $user}}"
