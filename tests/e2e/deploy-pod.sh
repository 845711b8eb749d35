#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The pod of deploy/pod/splitvmm-pod.yaml, played by podman, survives its
# device processes:
#
#   deploy-pod.sh BUILD_DIR ELF
#
# Builds the three images (deploy/build-images.sh) into a podman storage
# of its own, makes a network namespace with a persistent TAP (host side
# 10.77.5.1, the guest 10.77.5.2), plays the manifest in it (hostNetwork:
# the pod's network is that namespace) with the guest running test=rr
# against net-peer.py's rr-server there, checks that every process runs
# sandboxed (the manifest's --sandbox: a seccomp filter besides podman's,
# no capabilities, no new privileges), then SIGKILLs dev-pcnet's and
# dev-net-backend's process, twice each, in turn (kill -9 of the
# container's .State.Pid: 'podman kill' is a user's stop, which no restart
# policy undoes).  Each time podman must restart the container
# (RestartCount grows) and the guest's traffic resume; the guest must end
# with TEST PASS rr (no stall longer than stall_ms, no corruption).  Prints
# for each kill the time from the kill to the first new request the peer
# saw after the restart, as "bench:" lines.
#
# Root only; skips (77) when podman cannot run a container here.  Every
# wait is bounded; the pod, the images, the storage and the namespace are
# removed on every exit.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR ELF" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/netns-lib.sh"
build=$(realpath "$1") elf=$(realpath "$2")
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespace, TAP, /dev/kvm in a container)"
[ -e /dev/kvm ] || skip "no /dev/kvm"
[ -e /dev/net/tun ] || skip "no /dev/net/tun"
for c in podman runc nsenter ip python3; do
	command -v $c >/dev/null || skip "no $c (tests/deps.sh installs podman runc catatonit iproute2 python3)"
done

id=$$
ns=splitvmm-pod-$id tap=svpod$id name=t$id tag=t$id
host_ip=10.77.5.1 guest_ip=10.77.5.2
pod=splitvmm-$name
tmp=$(mktemp -d "${TMPDIR:-/tmp}/deploy-pod.XXXXXX")
peer_pid=
P=(podman --root "$tmp/storage" --runroot "$tmp/runroot" --tmpdir "$tmp/libpod" --storage-driver vfs)
cleanup() {
	set +e
	[ -n "$peer_pid" ] && kill "$peer_pid" 2>/dev/null
	# -t 0: vmm-core is PID 1 of its container and has no SIGTERM handler,
	# so a stop would wait out podman's 10 s for nothing.
	"${P[@]}" pod rm -f -t 0 "$pod" >/dev/null 2>&1
	"${P[@]}" rmi -a -f >/dev/null 2>&1
	wait 2>/dev/null
	netns_del "$ns"
	# vfs layers are plain directories, some read-only: podman's own
	# reset would do, but rm is enough once nothing runs.
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() {
	set +e	# show what there is, missing files and all
	echo "FAIL: $*" >&2
	echo "--- console"; tail -c 1500 "$tmp/run/console.log" 2>/dev/null | tr '\r' '\n' | tail -n 15
	for c in vmm-core dev-pcnet dev-net-backend; do
		echo "--- $c"; "${P[@]}" logs --tail 15 "$pod-$c" 2>&1
	done
	[ -e "$tmp/peer.out" ] && { echo "--- peer"; cat "$tmp/peer.out"; }
	exit 1
}
now() { date +%s.%N; }

# This machine's traps: nproc at its hard limit fails and crun refuses
# the hybrid cgroup hierarchy; the rest keeps podman's state in $tmp.
hard=$(ulimit -Hn)
cat >"$tmp/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$hard:$hard", "nproc=4096:4096"]
log_driver = "k8s-file"
[engine]
runtime = "runc"
events_logger = "file"
CONF
export CONTAINERS_CONF=$tmp/containers.conf
if ! out=$(timeout 60 "${P[@]}" info 2>&1); then
	skip "podman does not work here: $(echo "$out" | tail -n1)"
fi
SPLITVMM_PODMAN_OPTS="${P[*]:1}" "$top/deploy/build-images.sh" "$build" "$tag" ||
	die "deploy/build-images.sh failed"
# Can podman run a container at all?  dev-pcnet's image, asked for its
# usage, without a network.
if ! out=$(timeout 60 "${P[@]}" run --rm --pull=never --network none \
	"localhost/splitvmm-dev-pcnet:$tag" --help 2>&1); then
	skip "podman cannot run a container here: $(echo "$out" | tail -n1)"
fi

netns_tap "$ns" "$tap" "$host_ip/24" || die "no namespace with a TAP"

# The guest runs long enough for the four kills; stall_ms is its limit for
# one gap in the traffic, which must cover podman's restart.
cmdline="test=rr ip=$guest_ip peer=$host_ip port=7 ms=30000 timeout_ms=20 ping_every=16 stall_ms=15000 canary_kib=1024 arp_ms=10000"
sed_args=(-e "s|@NAME@|$name|g" -e "s|@TAG@|$tag|g" -e "s|@VM@|$elf|g"
	-e "s|@RUNDIR@|$tmp/run|g" -e "s|@TAP@|$tap|g" -e "s|@CMDLINE@|$cmdline|g")
sed "${sed_args[@]}" "$top/deploy/pod/splitvmm-pod.yaml" >"$tmp/pod.yaml"
! grep -n '@[A-Z]*@' "$tmp/pod.yaml" || die "a placeholder is left in the manifest"

ip netns exec "$ns" timeout 120 python3 "$here/net-peer.py" rr-server 0.0.0.0 7 100 \
	"$tmp/peer.log" >"$tmp/peer.out" 2>&1 &
peer_pid=$!
# Not through ip netns exec, which remounts /sys without the cgroups
# podman needs: nsenter only enters the network namespace.
timeout 120 nsenter --net="/run/netns/$ns" "${P[@]}" kube play "$tmp/pod.yaml" >"$tmp/play.out" 2>&1 ||
	die "podman kube play: $(cat "$tmp/play.out")"

insp() { "${P[@]}" inspect --format "$2" "$pod-$1" 2>/dev/null; }
# The manifest's console file (vmm-core appends to it, a restarted VM too).
guest_log=$tmp/run/console.log
# The guest's progress line ends in CR, not LF: match anywhere.
exchanges() { grep -ao 'rr: [0-9]* exchanges' "$guest_log" 2>/dev/null | tail -n1 | cut -d" " -f2 || true; }
wait_traffic() {	# until the guest reports more exchanges than $1 (20 s)
	local n
	for _ in $(seq 200); do
		n=$(exchanges)
		[ "${n:-0}" -gt "$1" ] && return 0
		sleep 0.1
	done
	die "no exchange for 20 s ($2)"
}
wait_traffic 0 "after the pod started"
echo "pod $pod up, the guest exchanging with the peer ($(exchanges) exchanges)"
# --sandbox took: each process has a seccomp filter of its own on top of
# podman's (Seccomp_filters 2 or more), no capability left, no new privileges.
for c in vmm-core dev-pcnet dev-net-backend; do
	st=/proc/$(insp $c '{{.State.Pid}}')/status
	f=$(awk '$1 == "Seccomp_filters:" { print $2 }' "$st")
	[ "${f:-0}" -ge 2 ] && grep -q '^CapEff:[[:space:]]*0*$' "$st" && grep -q '^NoNewPrivs:[[:space:]]*1$' "$st" ||
		die "$c is not sandboxed: $(grep -e ^Seccomp -e ^CapEff -e ^NoNewPrivs "$st" | tr '\n' ' ')"
done
echo "sandboxed: a seccomp filter of their own, no capabilities, no new privileges (vmm-core, dev-pcnet, dev-net-backend)"

kt=()	# "container t_kill t_started" per kill
# Twice each, so RestartCount goes 0, 1, 2: a restarted container is
# restarted again.
for c in dev-pcnet dev-net-backend dev-pcnet dev-net-backend; do
	sleep 1	# some undisturbed traffic between two kills
	rc0=$(insp $c '{{.RestartCount}}') pid0=$(insp $c '{{.State.Pid}}')
	[ "${pid0:-0}" -gt 0 ] || die "$c is not running"
	t_kill=$(now)
	kill -9 "$pid0"
	ok=
	for _ in $(seq 300); do	# 30 s for podman to notice and restart
		rc=$(insp $c '{{.RestartCount}}') pid=$(insp $c '{{.State.Pid}}') st=$(insp $c '{{.State.Status}}')
		if [ "${rc:-0}" -gt "$rc0" ] && [ "$st" = running ] && [ "${pid:-0}" -gt 0 ] && [ "$pid" != "$pid0" ]; then
			ok=1; break
		fi
		sleep 0.1
	done
	[ -n "$ok" ] || die "podman did not restart $c after kill -9 (RestartCount ${rc:-?}, state ${st:-?})"
	started=$(insp $c '{{.State.StartedAt.UnixNano}}')
	t_started=$(awk -v n="$started" 'BEGIN { printf "%.6f", n / 1e9 }')
	wait_traffic "$(exchanges)" "after $c was restarted"
	echo "$c: kill -9 $pid0, restarted by podman as pid $pid (RestartCount $rc0 -> $rc), traffic resumed"
	kt+=("$c $t_kill $t_started")
done

# The guest ends its run by itself: TEST PASS rr, then it resets (and
# vmm-core, restartPolicy Always, would start it again: the pod goes).
for _ in $(seq 600); do
	grep -q -e "TEST PASS rr" -e "TEST FAIL" "$guest_log" && break
	sleep 0.1
done
grep -q "TEST PASS rr" "$guest_log" || die "the guest did not pass: $(grep -m1 -e 'TEST FAIL' "$guest_log" || echo 'no result in 60 s')"
grep -ao "rr: [^,]* exchanges .*canary.*" "$guest_log" | head -n1
# The guest's "rr-done" ended the server, which wrote its log.
for _ in $(seq 100); do kill -0 "$peer_pid" 2>/dev/null || break; sleep 0.1; done
kill "$peer_pid" 2>/dev/null || true
wait "$peer_pid" || die "the rr server failed"
peer_pid=
printf '%s\n' "${kt[@]}" >"$tmp/kills"
python3 - "$tmp/kills" "$tmp/peer.log" <<'PY' || die "no traffic after a restart in the peer's log"
import sys
peer = [l.split() for l in open(sys.argv[2])]
times = [float(t) for t, s, kind in peer if kind == "new"]
for c, tk, ts in (l.split() for l in open(sys.argv[1])):
    tk, ts = float(tk), float(ts)
    after = [t for t in times if t > ts]
    if not after:
        print(f"no request reached the peer after {c} restarted")
        sys.exit(1)
    print(f"bench: pod-{c}-recovery-ms {(after[0] - tk) * 1000:.0f} "
          f"(podman restarted it after {(ts - tk) * 1000:.0f} ms, "
          f"traffic {(after[0] - ts) * 1000:.0f} ms later)")
PY
echo "PASS pod: dev-pcnet and dev-net-backend killed, restarted by podman, the guest passed rr"
