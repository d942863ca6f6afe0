# Sourced by test/cluster/cluster.sh and test/interop/slurm/cluster.sh: who owns
# a state directory (a namespace cluster's, a throwaway Slurm's), so that a
# later `up`/`start` or test/sweep.mjs can tell a cluster still in use from one
# whose test process was killed.
#
# DIR/owner holds "PID STARTTIME": the owner's pid and its start time in clock
# ticks since boot (field 22 of /proc/PID/stat), so a reused pid is not taken
# for the owner. The owner is MPI4TS_TEST_OWNER (test/cluster/cluster.ts and
# test/interop/slurm.test.ts pass their own pid); built by hand, without it, a
# cluster has no owner file, and a sweep leaves it alone.

# The start time of process $1, or nothing when there is no such process.
proc_start() {
  # After "pid (comm) ", field 22 is the 20th; comm itself may hold spaces and parentheses.
  sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

# Writes DIR/owner for MPI4TS_TEST_OWNER, if given.
owner_record() {
  [ -n "${MPI4TS_TEST_OWNER:-}" ] || return 0
  owner_start=$(proc_start "$MPI4TS_TEST_OWNER")
  [ -n "$owner_start" ] || return 0
  echo "$MPI4TS_TEST_OWNER $owner_start" >"$1/owner"
}

# True when DIR/owner names a process that still runs (a zombie counts as gone).
owner_alive() {
  [ -f "$1/owner" ] || return 1
  read -r owner_pid owner_start <"$1/owner" || return 1
  [ -n "$owner_pid" ] && [ "$(proc_start "$owner_pid")" = "$owner_start" ] || return 1
  [ "$(sed 's/^.*) //' "/proc/$owner_pid/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}

# True when DIR has an owner file and its owner is gone: the state of a killed run.
owner_gone() {
  [ -f "$1/owner" ] && ! owner_alive "$1"
}

# "pid N (its command line)", for messages.
owner_describe() {
  read -r owner_pid owner_start 2>/dev/null <"$1/owner" || { echo "no owner"; return; }
  echo "pid $owner_pid ($(tr '\0' ' ' <"/proc/$owner_pid/cmdline" 2>/dev/null | cut -c1-120))"
}
