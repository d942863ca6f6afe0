/** `mpi4ts info`: what this installation and (under a launcher) this job look like. */
import { availableParallelism, hostname } from 'node:os';
import { VERSION } from '../base/index.js';

export async function infoCommand(_argv: string[]): Promise<number> {
  const lines = [
    `mpi4ts ${VERSION}`,
    `node ${process.version} (${process.platform}-${process.arch})`,
    `host ${hostname()}, ${availableParallelism()} cores`,
  ];
  // Importing the library starts the runtime: under a launcher this joins the job.
  const MPI = await import('../index.js');
  const info = MPI.runtimeInfo();
  lines.push(`bootstrap ${info.bootstrap}: rank ${info.rank} of ${info.size} on ${info.host}`);
  lines.push(`transport per peer: ${info.transports.map((t, i) => `${i}:${t}`).join(' ')}`);
  lines.push(`large messages on this host: ${info.crossMemory}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  // The caller exits at once: leave the job properly first, or a launcher may
  // take this rank's early exit for a failure and stop the others before they
  // print (seen with Hydra across hosts).
  await MPI.finalize();
  return 0;
}
