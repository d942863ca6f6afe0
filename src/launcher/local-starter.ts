/**
 * The starter of ranks on the launcher's own host (ssh-starter.ts starts the
 * others).
 *
 * # Unfinished features
 * - No starters for batch systems (PBS/Torque's tm, LSF's blaunch, SGE's
 *   qrsh): `mpi4ts run` starts ranks itself, here or over ssh; under Slurm
 *   or Open MPI, srun or mpirun start them instead (runtime/).
 */
import { spawn } from 'node:child_process';
import { killGroup } from './process-group.js';
import type { RankExit, RankProcess, RankSpec, Starter } from './starter.js';

/**
 * Starts ranks on this machine. Each rank leads its own process group, so a
 * stop signal reaches whatever the rank started too, and Ctrl-C at the
 * terminal reaches only the launcher, which then stops the job in order.
 */
export class LocalStarter implements Starter {
  start(spec: RankSpec, withStdin: boolean): RankProcess {
    const [program, ...args] = spec.command;
    const child = spawn(program!, args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: [withStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const exited = new Promise<RankExit>((resolve) => {
      child.once('error', () => resolve({ code: 127, signal: null }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    return {
      rank: spec.rank,
      host: spec.host,
      pid: child.pid,
      stdout: child.stdout!,
      stderr: child.stderr!,
      stdin: child.stdin,
      exited,
      // detached: the rank leads a group of its own, whose id is its pid.
      localGroup: Promise.resolve(child.pid),
      kill(signal) {
        killGroup(child.pid, signal);
      },
    };
  }
}
