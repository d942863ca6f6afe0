// A task module that imports mpi4ts (test/programs/pool.ts importsMpi4ts): on a worker it is the worker's own world.
import * as MPI from 'mpi4ts';

export function worldRank(): [number, number] {
  return [MPI.COMM_WORLD.rank, MPI.COMM_WORLD.size];
}
