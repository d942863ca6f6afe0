/**
 * A rank's own hang report, for launchers that cannot ask for one (Hydra,
 * Slurm, Open MPI): on SIGUSR1 the rank prints what it waits for on stderr.
 * Under mpi4ts run the launcher asks over the control connection instead
 * (Bootstrap.serveReports) and prints every rank's at once.
 */
import { reportLines, type RankReport } from '../wire/index.js';

/**
 * Prints `report()` on stderr at each SIGUSR1. This replaces Node's own
 * SIGUSR1 action (starting the inspector) in this process.
 */
export function reportOnSignal(report: () => RankReport): void {
  process.on('SIGUSR1', () => {
    const lines = reportLines(report(), true);
    process.stderr.write(`mpi4ts: hang report (SIGUSR1): ${lines.join('\n')}\n`);
  });
}
