// A task module that imports mpi4ts (test/programs/pool.ts importsMpi4ts): on a worker it is the worker's own world.
import * as MPI from 'mpi4ts';

export function worldRank(): [number, number] {
  return [MPI.COMM_WORLD.rank, MPI.COMM_WORLD.size];
}

/** The worker's host (test/multihost: which namespace host ran it), after `ms` so that every worker gets some. */
export async function processorName(ms: number): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return MPI.getProcessorName();
}

/** Writes this worker's pid and host to `path`, then waits `ms` (the test kills it meanwhile). */
export async function pidThenWait(path: string, ms: number): Promise<string> {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path, `${process.pid} ${MPI.getProcessorName()}`);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return 'finished';
}
