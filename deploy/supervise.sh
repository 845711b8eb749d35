#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A small supervisor for local use (systemd's Restart=always, or a
# container runtime's restart policy, do the same in production):
#
#   supervise.sh [--name NAME] -- COMMAND [ARGS...]
#
# Runs COMMAND and starts it again whenever it dies of a signal or exits
# non-zero, after a backoff of 100 ms doubling to 2 s (back to 100 ms once
# a run lasted 10 s).  A clean exit (status 0: e.g. dev-pcnet after its VM
# ended) ends the supervision with status 0.  SIGTERM or SIGINT is passed
# on to COMMAND, which ends the supervision too.  Each restart is one line
# on stderr.
set -u
name=
while [ $# -gt 0 ]; do
	case $1 in
	--name) name=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "usage: $0 [--name NAME] -- COMMAND [ARGS...]" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--name NAME] -- COMMAND [ARGS...]" >&2; exit 2; }
name=${name:-$(basename "$1")}
child= stopping=
stop() { stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null; }
trap stop TERM INT
backoff_ms=100
while :; do
	start=$(date +%s)
	"$@" &
	child=$!
	# wait returns early when a trapped signal arrives: wait again.
	while :; do
		wait "$child"
		status=$?
		kill -0 "$child" 2>/dev/null || break
	done
	child=
	[ -n "$stopping" ] && exit "$status"
	[ "$status" = 0 ] && exit 0
	if [ $(( $(date +%s) - start )) -ge 10 ]; then backoff_ms=100; fi
	if [ "$status" -gt 128 ]; then
		why="killed by signal $((status - 128))"
	else
		why="exit status $status"
	fi
	echo "supervise: $name $why; restarting in ${backoff_ms} ms" >&2
	sleep "$(awk -v m="$backoff_ms" 'BEGIN { printf "%.3f", m / 1000 }')"
	[ -n "$stopping" ] && exit "$status"
	backoff_ms=$((backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2))
done
