# SPDX-License-Identifier: GPL-2.0-only
#
# What scripts/check, scripts/check-debug and scripts/fuzz-long share,
# sourced by each (bash): the VM's cards, what a kernel log must not hold,
# results as TAP streams under one directory, one result per stage, and the
# closing count.  check_begin DIR first; stage NAME COMMAND... for each
# stage; check_end last, which prints "N passed, N failed[, N skipped]" and
# exits 1 when anything failed.

# The VM cards: two, with different geometry, so INFO is seen to report
# each card's own command line; the first can inject faults.
VM_CARDS=(--card tiles=16,seed=1,serial=CI-A,faults=on --card tiles=4,seed=42,serial=CI-B)

# What the kernel prints when something went wrong.  The debug kernel's
# checkers report through these as well: KASAN as "BUG: KASAN", lockdep,
# debug objects and DMA-API debugging as a WARNING with its trace.
KERNEL_REPORTS='BUG:|WARNING:|Oops|Call Trace|general protection|UBSAN:|KASAN:|blocked for more than'

check_begin() { # RESULTS-DIR
	res=$1
	rm -rf "$res"
	mkdir -p "$res"
	steps=$res/stages.tap
	nstep=0
	echo "TAP version 13" >"$steps"
}

log_of() {
	echo "$res/$(printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_').log"
}

# stage NAME COMMAND...: one TAP result for a command that must succeed.
stage() {
	local name=$1 log
	shift
	log=$(log_of "$name")
	nstep=$((nstep + 1))
	printf '== %s\n' "$name" >&2
	if "$@" >"$log" 2>&1; then
		echo "ok $nstep $name" >>"$steps"
		return 0
	fi
	echo "not ok $nstep $name" >>"$steps"
	printf -- '-- %s failed; last lines of %s:\n' "$name" "$log" >&2
	tail -n 30 "$log" >&2
	return 1
}

# A kernel build is clean when kbuild (compiler, sparse) printed no warning.
kbuild_clean() {
	local out
	out=$("$@" 2>&1)
	local rc=$?
	printf '%s\n' "$out"
	[ $rc -eq 0 ] || return $rc
	! printf '%s\n' "$out" | grep -Ei 'warning:|error:'
}

# The tests can pass while the kernel complained: that fails too.
kernel_log_clean() { # CONSOLE-LOG
	! grep -E "$KERNEL_REPORTS" "$1"
}

check_end() {
	echo "1..$nstep" >>"$steps"
	echo >&2
	summary=$(scripts/tap-count "$res"/*.tap)
	rc=$?
	# Results with a SKIP or TODO directive are neither passes nor failures: list
	# them apart, with their reasons, so a green run shows nothing as FAILED.
	# A test's reason is the "# SKIP: ..." diagnostic it printed just before.
	awk '
	/^# SKIP: / { reason = substr($0, 9); next }
	/^(not )?ok/ && /#[ \t]*([Ss][Kk][Ii][Pp]|[Tt][Oo][Dd][Oo])/ {
		line = $0
		sub(/^(not )?ok [0-9]+ (- )?/, "", line)
		print "SKIPPED: " line (reason != "" ? " (" reason ")" : "")
		reason = ""
		next
	}
	/^not ok/ { print "FAILED: " $0 }
	/^(not )?ok/ { reason = "" }
	' "$res"/*.tap >&2
	echo "$summary"
	exit $rc
}
