/**
 * Reduce-scatter with counts (MPI 4.1 section 6.10.2, MPI_Reduce_scatter).
 *
 * # Unfinished features
 * - **6.13.9**, **6.13.10**: MPI_Reduce_scatter_block_init, MPI_Reduce_scatter_init.
 *   (Into the caller's buffer and the block form: buffers.ts.)
 */
import { MPIError } from '../base/index.js';
import { Failure, type Channel } from './channel.js';
import { describe, isTypedArray, type Op, type TypedArray } from './op.js';
import { agreeOnShapes } from './allreduce.js';
import { reduceBinomial } from './reduce.js';
import { scatterBinomial } from './scatter-gather.js';
import { ringReduceScatter } from './ring.js';
import { newLike, noteFailure, sliceOf } from './step.js';
import { offsetsOf } from './vector.js';

/**
 * Ring reduce-scatter, for predefined ops: the ranks agree on type, length
 * and counts (so raw chunks can travel unchecked), then the ring's
 * reduce-scatter pass with the counted parts as its chunks, from the input
 * into a fresh array; each rank keeps its part. Bandwidth-optimal.
 */
export async function reduceScatterRing<A extends TypedArray>(ch: Channel, send: A | Failure, counts: readonly number[],
  op: Op): Promise<A | Failure> {
  const agreed = await agreeOnShapes(ch, send, null, counts.join(','));
  if (agreed !== null) return agreed;
  if (send instanceof Failure) return send;
  const starts = startsOf(counts, ch.size);
  const reduced = newLike(send, send.length);
  await ringReduceScatter(ch, send, reduced, op, starts);
  return sliceOf(reduced, starts[ch.rank], starts[ch.rank + 1]);
}

/**
 * Reduce-scatter for user ops, which combine whole arrays in rank order: a
 * binomial reduce to rank 0, which cuts the result into the parts, then a
 * binomial scatter of the parts.
 */
export async function reduceScatterBinomial<A extends TypedArray>(ch: Channel, send: A | Failure, counts: readonly number[],
  op: Op): Promise<A | Failure> {
  const whole = await reduceBinomial(ch, send, op, 0);
  return scatterBinomial(ch, ch.rank === 0 ? partsOf(ch, whole, counts) : null, 0);
}

/** The parts of the reduction at rank 0, or why there are none. */
function partsOf<A extends TypedArray>(ch: Channel, whole: A | Failure | null, counts: readonly number[]): A[] | Failure {
  if (whole instanceof Failure) return whole;
  const starts = startsOf(counts, ch.size);
  // A user op may give anything: check before cutting.
  if (!isTypedArray(whole) || whole.length !== starts[ch.size]) {
    return noteFailure(ch, new MPIError('ERR_COUNT', `the op gave ${describe(whole)}, not a typed array of the sum of counts`));
  }
  return counts.map((_, r) => sliceOf(whole, starts[r], starts[r + 1]));
}

/** Where each rank's part starts, and the end (counts already checked on this rank). */
function startsOf(counts: readonly number[], size: number): number[] {
  const { offsets, total } = offsetsOf(counts, size, 'counts');
  offsets.push(total);
  return offsets;
}
