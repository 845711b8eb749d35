#!/usr/bin/env bash
# README command 2: installs what the tests need, builds the project twice
# (release and ASan+UBSan), and runs every test suite; the unit suite also
# runs under valgrind.  Exit status 0 only if nothing failed.
#
#   tests/run.sh [--quick]     --quick skips the sanitizer build, valgrind,
#                              the fuzz and the slow suites (unit,
#                              integration and e2e run always)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
quick=0
[ "${1:-}" = --quick ] && quick=1

. tests/deps.sh
splitvmm_install "${SPLITVMM_BUILD_DEPS[@]}" "${SPLITVMM_TEST_DEPS[@]}"

results=()
failed=0

# meson test prints per-test lines; the counts come from its JSON log.
run_suites() {
	local dir=$1; shift
	local log rc=0
	# meson names the log after a --wrapper (testlog-valgrind.json): count
	# only the one this run writes.
	rm -f "$dir"/meson-logs/testlog*.json
	meson test -C "$dir" --print-errorlogs "$@" || rc=$?
	log=$(ls "$dir"/meson-logs/testlog*.json 2>/dev/null | head -n1)
	if [ -n "$log" ] && [ -f "$log" ]; then
		results+=("$(python3 - "$log" <<'PY'
import json, sys
c = {"OK": 0, "FAIL": 0, "SKIP": 0}
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    k = "OK" if r in ("OK", "EXPECTEDFAIL") else "SKIP" if r == "SKIP" else "FAIL"
    c[k] += 1
print(c["OK"], c["FAIL"], c["SKIP"])
PY
)")
	fi
	[ $rc -eq 0 ] || failed=1
}

setup() {
	local dir=$1; shift
	if [ -d "$dir" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir"
}

echo "== release build"
setup build
run_suites build --suite unit --suite integration --suite e2e

if [ $quick -eq 0 ]; then
	echo "== unit suite under valgrind"
	run_suites build --suite unit \
		--wrapper 'valgrind --quiet --leak-check=full --error-exitcode=99' \
		--timeout-multiplier 10

	echo "== ASan+UBSan build"
	setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		run_suites build-asan --suite unit --suite integration --suite e2e

	echo "== fuzz suite (bounded runs)"
	run_suites build --suite fuzz

	echo "== slow suite"
	run_suites build --suite slow
fi

pass=0 fail=0 skip=0
for r in "${results[@]}"; do
	read -r p f s <<<"$r"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
done
cd "$top"
echo "tests: $pass passed, $fail failed, $skip skipped"
[ $failed -eq 0 ] && [ $fail -eq 0 ]
