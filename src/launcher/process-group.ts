/**
 * Signals to a rank's process group. Every rank is started as the leader of
 * a group of its own (spawn's `detached`), whose id is its pid, so one
 * signal reaches the rank and whatever it started: the local starter
 * (local-starter.ts), the remote wrapper (remote-rank.ts) and the
 * watchdog's bookkeeping (watchdog.ts) all go through here.
 *
 * # Unfinished features
 * - A process that leaves the group (setsid, or a daemon that double-forks)
 *   is out of reach: there is no cgroup or systemd scope per job to end
 *   everything a rank ever started.
 * - POSIX only: Windows has no process groups to signal.
 */

/**
 * Sends `signal` to every process of the group `pgid` leads (0: only checks
 * that the group is there); false when none could be signalled (the group is
 * empty, or `pgid` is undefined: the process never started).
 */
export function killGroup(pgid: number | undefined, signal: NodeJS.Signals | 0): boolean {
  // Never 0 or below: kill(-0) would signal the launcher's own group.
  if (pgid === undefined || pgid <= 0) return false;
  try {
    // A negative pid names the group: the rank may be gone while something it started is not.
    process.kill(-pgid, signal);
    return true;
  } catch {
    // ESRCH: nothing left in the group (EPERM: nothing of ours left in it).
    return false;
  }
}
