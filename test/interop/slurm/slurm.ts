/**
 * The one-node Slurm of test/interop/slurm/cluster.sh, for the test file that
 * starts it: stopped when the file ends or is interrupted (test/teardown.ts),
 * and by test/sweep.mjs should the file be killed outright (this process is
 * its owner).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../helpers.js';
import { onTeardown, type Teardown } from '../../teardown.js';

const SCRIPT = join(ROOT, 'test', 'interop', 'slurm', 'cluster.sh');

export class Slurm {
  /** SLURM_CONF for srun, sinfo and the rest. */
  readonly conf: string;

  constructor(readonly dir: string, private readonly teardown: Teardown) {
    this.conf = join(dir, 'slurm.conf');
  }

  /** Stops the daemons and what still runs under them, and removes the dir (once). */
  stop(): void {
    this.teardown.run();
  }
}

/**
 * Starts a Slurm (slurmctld, slurmd, munged; installing slurm-wlm and munge
 * when root and missing), or returns why this machine cannot; throws when it
 * should and does not start.
 */
export function startSlurm(): Slurm | string {
  if (process.getuid?.() !== 0 && spawnSync('srun', ['--version']).error !== undefined) {
    return 'Slurm is not installed and this is not root to install it (Debian: apt-get install slurm-wlm munge)';
  }
  // Starting daemons as another user than root is not what this script does: it needs root.
  if (process.getuid?.() !== 0) return 'starting a throwaway Slurm (slurmctld, slurmd, munged) needs root';
  const started = spawnSync(SCRIPT, ['start'], { encoding: 'utf8', timeout: 600_000, env: { ...process.env, MPI4TS_TEST_OWNER: String(process.pid) } });
  if (started.status !== 0) throw new Error(`cannot start the one-node Slurm: ${started.stderr}`);
  const dir = started.stdout.trim();
  // In the same turn as `start` returned: a signal that came meanwhile is handled only after this.
  const teardown = onTeardown(`Slurm (slurmctld, slurmd, munged) in ${dir}`, () => {
    // Output collected, not inherited: interrupted, this file may have nobody reading its stderr.
    // SIGKILL on time-out: stop ignores SIGTERM.
    spawnSync(SCRIPT, ['stop', dir], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  });
  return new Slurm(dir, teardown);
}
