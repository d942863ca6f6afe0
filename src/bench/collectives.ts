/**
 * The OSU collective latency tests (osu_bcast, osu_reduce, ...). As OSU:
 * every rank times each call on its own clock, `warmup` untimed calls
 * first, a barrier after every call so calls do not overlap; each rank's
 * average goes to rank 0, which reports the average over ranks with the
 * minimum and maximum (-f). Roots are rank 0. Reductions sum floats:
 * Float32Array with MPI.SUM on the typed path; on the object path an array
 * of numbers with a user-defined element-wise sum, the generic route.
 */
import type { Comm } from '../comm/index.js';
import { MPIError } from '../errors.js';
import type { BenchConfig } from './config.js';
import { message, now, p2pBarrier, spreadAtRoot, type RowSink } from './common.js';
import { loopCounts, type TestName } from './tests.js';

/** The collective calls of API.md, as the benchmark uses them. */
export interface CollectiveComm {
  barrier(): Promise<void>;
  bcast(value: unknown, root?: number): Promise<unknown>;
  reduce(value: unknown, op?: unknown, root?: number): Promise<unknown>;
  allreduce(value: unknown, op?: unknown): Promise<unknown>;
  allgather(value: unknown): Promise<unknown[]>;
  alltoall(values: unknown[]): Promise<unknown[]>;
  gather(value: unknown, root?: number): Promise<unknown[] | null>;
  scatter(values: unknown[] | null, root?: number): Promise<unknown>;
}

/** The reduction operators the benchmark needs, from the public API. */
export interface ReductionOps {
  sum: unknown;
  /** Element-wise sum of two arrays of numbers, as a user op. */
  elementwiseSum: unknown;
}

type Call = () => Promise<unknown>;

function operationFor(test: TestName, comm: Comm & CollectiveComm, size: number, typed: boolean, ops: ReductionOps): Call {
  const root = 0;
  switch (test) {
    case 'barrier':
      return () => comm.barrier();
    case 'bcast': {
      const value = message(size, typed);
      return () => comm.bcast(comm.rank === root ? value : null, root);
    }
    case 'reduce':
    case 'allreduce': {
      const count = size / 4;
      const value = typed ? new Float32Array(count).fill(1) : Array.from({ length: count }, () => 1);
      const op = typed ? ops.sum : ops.elementwiseSum;
      return test === 'reduce' ? () => comm.reduce(value, op, root) : () => comm.allreduce(value, op);
    }
    case 'allgather': {
      const value = message(size, typed);
      return () => comm.allgather(value);
    }
    case 'gather': {
      const value = message(size, typed);
      return () => comm.gather(value, root);
    }
    case 'alltoall': {
      const values = Array.from({ length: comm.size }, () => message(size, typed));
      return () => comm.alltoall(values);
    }
    case 'scatter': {
      const values = Array.from({ length: comm.size }, () => message(size, typed));
      return () => comm.scatter(comm.rank === root ? values : null, root);
    }
    default:
      throw new Error(`${test} is not a collective test`);
  }
}

/** Refuses early, on every rank alike, when this build lacks the collective. */
function requireCollective(comm: Comm, test: TestName): asserts comm is Comm & CollectiveComm {
  const needed = test === 'barrier' ? ['barrier'] : [test, 'barrier'];
  const missing = needed.filter((name) => typeof (comm as unknown as Record<string, unknown>)[name] !== 'function');
  if (missing.length > 0) {
    throw new MPIError('ERR_OTHER', `this mpi4ts build has no comm.${missing.join('/comm.')}; the ${test} benchmark needs it`);
  }
}

export async function runCollective(comm: Comm, config: BenchConfig, ops: ReductionOps, emit: RowSink): Promise<void> {
  requireCollective(comm, config.test);
  for (const size of config.sizes) {
    const loops = loopCounts('collective', size, config.iterations, config.warmup);
    const call = operationFor(config.test, comm, size, config.typed, ops);
    await p2pBarrier(comm);
    let total = 0;
    for (let i = 0; i < loops.iterations + loops.warmup; i++) {
      const start = now();
      await call();
      const elapsed = now() - start;
      if (i >= loops.warmup) total += elapsed;
      await comm.barrier();
    }
    const spread = await spreadAtRoot(comm, (total * 1e6) / loops.iterations);
    emit({ size, value: spread.avg, min: spread.min, max: spread.max, iterations: loops.iterations });
  }
}
