#!/bin/sh
# A throwaway one-node Slurm on this machine, for test/interop/slurm.test.ts.
#   cluster.sh start        installs slurm-wlm and munge if missing (root), starts munged,
#                           slurmctld and slurmd with a config in a fresh temp dir, waits
#                           until the node is idle, prints the dir (export SLURM_CONF=<dir>/slurm.conf)
#   cluster.sh stop <dir>   stops the daemons started from <dir>, the steps still running, and removes <dir>
#   cluster.sh sweep        stops every such Slurm whose owner is gone (a killed run's), one line each
# Everything is named mpi4ts-interop-*; nothing outside the temp dir is touched
# (munged gets its own key and socket, the daemons their own ports:
# MPI4TS_SLURM_CTLD_PORT and MPI4TS_SLURM_SLURMD_PORT, default 27817 and 27818).
# With MPI4TS_TEST_OWNER=PID, <dir>/owner records that process (test/owner.sh);
# `start` first sweeps, so a killed run's daemons do not hold the ports, and
# test/sweep.mjs sweeps after every test run. `stop` ignores SIGINT, SIGTERM and
# SIGHUP: a second Ctrl-C must not leave a daemon behind.
set -eu

CTLD_PORT=${MPI4TS_SLURM_CTLD_PORT:-27817}
SLURMD_PORT=${MPI4TS_SLURM_SLURMD_PORT:-27818}
. "$(dirname "$0")/../../owner.sh"

stop() {
  dir=$1
  case "$dir" in /tmp/mpi4ts-interop-slurm.*) ;; *) echo "cluster.sh: refusing to stop '$dir'" >&2; exit 2 ;; esac
  trap '' INT TERM HUP
  for name in slurmd slurmctld munged; do
    pidfile="$dir/$name.pid"
    [ -f "$pidfile" ] || continue
    # Another stop (the test's own, a sweep's) may remove it meanwhile.
    pid=$(cat "$pidfile" 2>/dev/null || true)
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null || true
  done
  for pid in $(leftovers "$dir"); do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}

# What the pid files miss, by session: slurmstepd of a step still running (it
# outlives slurmd, and then ignores SIGTERM) with the step's tasks, which share
# its session, and a daemon killed before it wrote its pid file. A process is
# this Slurm's when it is one of Slurm's or munge's daemons and names <dir> in
# its command line or its SLURM_CONF; srun and the shell that runs this script
# may name <dir> too, but they are no daemon, and our own session is never touched.
leftovers() {
  ours=$(sed 's/^.*) //' "/proc/$$/stat" | cut -d' ' -f4)
  sessions=''
  # The patterns escape the dot: grep's own command line must not match them.
  for file in $(grep -lsaE "SLURM_CONF=$1/slurm\.conf" /proc/[0-9]*/environ || true) \
    $(grep -lsaE "$1/(slurm\.conf|munge\.sock)" /proc/[0-9]*/cmdline || true); do
    pid=${file#/proc/}
    pid=${pid%%/*}
    case "$(cat "/proc/$pid/comm" 2>/dev/null || true)" in
      slurmstepd | slurmscriptd | slurmctld | slurmd | munged) ;;
      *) continue ;;
    esac
    sid=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f4)
    case "$sid" in '' | 0 | "$ours") ;; *) sessions="$sessions $sid" ;; esac
  done
  [ -n "$sessions" ] || return 0
  ps -eo pid=,sid= | awk -v want="$sessions" -v self="$$" '
    BEGIN { n = split(want, list, " "); for (i = 1; i <= n; i++) session[list[i]] = 1 }
    ($2 in session) && $1 != self { print $1 }'
}

sweep() {
  for dir in /tmp/mpi4ts-interop-slurm.*; do
    [ -d "$dir" ] && owner_gone "$dir" || continue
    echo "slurm $dir (owner $(cut -d' ' -f1 "$dir/owner") gone)"
    stop "$dir"
  done
}

install_if_missing() {
  if command -v slurmctld >/dev/null && command -v munged >/dev/null && command -v srun >/dev/null; then return; fi
  [ "$(id -u)" = 0 ] || { echo "cluster.sh: slurm-wlm/munge missing and not root" >&2; exit 3; }
  apt-get update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=300 slurm-wlm munge >/dev/null
}

start() {
  install_if_missing
  # A killed run's Slurm would hold the ports (stdout is for the dir alone).
  sweep >&2
  dir=$(mktemp -d /tmp/mpi4ts-interop-slurm.XXXXXX)
  owner_record "$dir"
  # On any failure from here, or an interruption: stop what started, show the logs, fail.
  trap 'echo "cluster.sh: start failed; logs:" >&2; tail -n 20 "$dir"/*.log >&2 2>/dev/null; stop "$dir"; exit 1' EXIT
  trap 'exit 1' INT TERM HUP
  node=$(hostname -s)
  mkdir -p "$dir/state" "$dir/spool"
  head -c 1024 /dev/urandom > "$dir/munge.key"
  chmod 0400 "$dir/munge.key"
  munged --force --socket="$dir/munge.sock" --key-file="$dir/munge.key" --pid-file="$dir/munged.pid" \
    --log-file="$dir/munged.log" --seed-file="$dir/munged.seed"
  cat > "$dir/slurm.conf" <<CONF
ClusterName=mpi4tsinterop
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
AuthInfo=socket=$dir/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=$node NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN
PartitionName=mpi4ts Nodes=ALL Default=YES MaxTime=10 State=UP OverSubscribe=YES
CONF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -i -f "$SLURM_CONF"
  slurmd -f "$SLURM_CONF"
  i=0
  until [ "$(sinfo -h -o %t 2>/dev/null)" = idle ]; do
    i=$((i + 1))
    [ $i -lt 150 ] || { echo "cluster.sh: node not idle after 30 s: $(sinfo -h 2>&1)" >&2; exit 1; }
    sleep 0.2
  done
  trap - EXIT INT TERM HUP
  echo "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:?cluster.sh stop <dir>}" ;;
  sweep) sweep ;;
  *) echo "usage: cluster.sh start | stop <dir> | sweep" >&2; exit 2 ;;
esac
