/**
 * The OSU collective latency tests (osu_bcast, osu_reduce, ...). As OSU:
 * every rank times each call on its own clock, `warmup` untimed calls
 * first, a barrier after every call so calls do not overlap; each rank's
 * average goes to rank 0, which reports the average over ranks with the
 * minimum and maximum (-f). Roots are rank 0. Reductions sum floats:
 * Float32Array with MPI.SUM on the typed path; on the object path an array
 * of numbers with a user-defined element-wise sum, the generic route.
 * alltoallv is a buffer collective: it runs on the typed path only.
 * The progress line (rank 0's, on a terminal) ticks after the clock has
 * stopped and before the barrier, so the other ranks wait for a draw in the
 * barrier, untimed, not in the next timed call.
 */
import type { Comm } from '../comm/index.js';
import type { Op } from '../coll/index.js';
import type { BenchConfig } from './config.js';
import { message, now, p2pBarrier, spreadAtRoot, type RowSink } from './common.js';
import type { ProgressLine } from './progress.js';
import { loopCounts, type TestName } from './tests.js';

/** The reduction operators the benchmark uses. */
export interface ReductionOps {
  sum: Op;
  /** Element-wise sum of two arrays of numbers, as a user op. */
  elementwiseSum: Op;
}

type Call = () => Promise<unknown>;

function operationFor(test: TestName, comm: Comm, size: number, typed: boolean, ops: ReductionOps): Call {
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
      if (typed) {
        const value = new Float32Array(count).fill(1);
        return test === 'reduce' ? () => comm.reduce(value, ops.sum, root) : () => comm.allreduce(value, ops.sum);
      }
      const value = Array.from({ length: count }, () => 1);
      return test === 'reduce' ? () => comm.reduce(value, ops.elementwiseSum, root) : () => comm.allreduce(value, ops.elementwiseSum);
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
    case 'alltoallv': {
      // As OSU's osu_alltoallv: equal counts of `size` bytes to and from every
      // rank, each block at its displacement, into a buffer allocated once.
      const counts = Array.from({ length: comm.size }, () => size);
      const displs = counts.map((_, r) => r * size);
      const sendbuf = new Uint8Array(size * comm.size).fill(size & 0xff);
      const recvbuf = new Uint8Array(size * comm.size);
      return () => comm.alltoallv(sendbuf, counts, displs, recvbuf, counts, displs);
    }
    case 'scatter': {
      const values = Array.from({ length: comm.size }, () => message(size, typed));
      return () => comm.scatter(comm.rank === root ? values : null, root);
    }
    default:
      throw new Error(`${test} is not a collective test`);
  }
}

export async function runCollective(comm: Comm, config: BenchConfig, ops: ReductionOps, emit: RowSink, progress: ProgressLine): Promise<void> {
  const sized = config.test !== 'barrier';
  for (const size of config.sizes) {
    const loops = loopCounts('collective', size, config.iterations, config.warmup);
    const call = operationFor(config.test, comm, size, config.typed, ops);
    await p2pBarrier(comm);
    progress.begin(sized ? size : null, loops.warmup, loops.iterations);
    let total = 0;
    for (let i = 0; i < loops.iterations + loops.warmup; i++) {
      const start = now();
      await call();
      const elapsed = now() - start;
      if (i >= loops.warmup) total += elapsed;
      if (i === progress.due) progress.tick(i);
      await comm.barrier();
    }
    const spread = await spreadAtRoot(comm, (total * 1e6) / loops.iterations);
    emit({ size, value: spread.avg, min: spread.min, max: spread.max, iterations: loops.iterations });
  }
}
