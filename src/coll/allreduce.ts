/**
 * All-reduce (MPI 4.1 section 6.9.6). allreduceInto is MPI_Allreduce on
 * buffers, MPI_IN_PLACE included (recvbuf === sendbuf).
 *
 * # Unfinished features
 * - **6.13.8**: MPI_Allreduce_init.
 */
import { Failure, type Channel } from './channel.js';
import { isTypedArray, type Op, type TypedArray } from './op.js';
import { AGREE_SHAPES, Fold, exchange, newLike, noteFailure, ownOperand, ownOperandInto, reduceStep, shapeOf } from './step.js';
import { chunkStarts, ringAllgather, ringReduceScatter } from './ring.js';
import { allreduceAlgorithm, ringThreshold } from './model.js';
import type { AllreduceAlgorithm } from '../base/index.js';

/**
 * Recursive doubling with the non-power-of-two fold: survivors exchange
 * partial results with the partner at distance 2^k in log2 rounds, each
 * combining the lower block first, so non-commutative ops keep rank order;
 * then the ranks that sat out get the result. Every rank's result depends
 * on every input, so a failure anywhere reaches every rank.
 */
export async function allreduceRecursiveDoubling<T>(ch: Channel, value: T | Failure, op: Op, into?: T & TypedArray): Promise<T | Failure> {
  const fold = new Fold(ch.rank, ch.size);
  // Into the caller's array for a predefined op (accumulated in place: those ops commute exactly).
  let acc = into !== undefined && op.isPredefined ? ownOperandInto(ch, op, value as T & TypedArray | Failure, into) : ownOperand(ch, op, value);
  if (fold.newRank < 0) {
    await ch.send(ch.rank + 1, acc);
    return ch.recv<T>(ch.rank + 1);
  }
  if (fold.absorbsLower) acc = reduceStep(ch, op, acc, await ch.recv<T>(ch.rank - 1), true);
  for (let mask = 1; mask < fold.pof2; mask *= 2) {
    const partner = fold.newRank ^ mask;
    const incoming = await exchange(ch, fold.realRank(partner), acc);
    acc = reduceStep(ch, op, acc, incoming, partner < fold.newRank);
  }
  if (fold.absorbsLower) await ch.send(ch.rank - 1, acc);
  return acc;
}

/**
 * Ring allreduce (as Patarasuk and Yuan; Baidu's "ring allreduce"): the ranks
 * first agree on type and length by recursive doubling on the shapes (cheap
 * next to the data, and a mismatch then fails on every rank), then the
 * ring's reduce-scatter and allgather passes. The result goes to `output` (a
 * new array when none is given); `output === value` reduces in place.
 */
export async function allreduceRing<A extends TypedArray>(ch: Channel, value: A, op: Op, output?: A): Promise<A | Failure> {
  const agreed = await agreeOnShapes(ch, value, op);
  if (agreed !== null) return agreed;
  const starts = chunkStarts(value.length, ch.size);
  const result = output ?? newLike(value, value.length);
  await ringReduceScatter(ch, value, result, op, starts);
  await ringAllgather(ch, result, starts);
  return result;
}

/**
 * The ranks agree on their arrays' type and length (and `extra`, such as
 * counts) by a recursive-doubling allreduce of shapes, before raw chunks
 * travel unchecked: null when they agree, else the Failure every rank gets.
 * An array `op` cannot take (BXOR on floats) fails here, where a failure
 * reaches every rank; in a ring each rank's op would throw on its own.
 */
export async function agreeOnShapes(ch: Channel, value: TypedArray | Failure, op: Op | null, extra = ''): Promise<Failure | null> {
  const problem = value instanceof Failure || op === null ? null : op.problem(value);
  const shape = value instanceof Failure ? value : problem === null ? shapeOf(value, extra) : noteFailure(ch, new TypeError(problem));
  const agreed = await allreduceRecursiveDoubling(ch, shape, AGREE_SHAPES);
  return agreed instanceof Failure ? agreed : null;
}

/**
 * Should a typed array take the bandwidth-optimal ring? From `ringMinBytes`
 * on up to 4 ranks, from more on more ranks, as the cost model's crossover
 * grows (model.ts ringThreshold).
 */
export function takesRing(value: unknown, op: Op, size: number, ringMinBytes: number): value is TypedArray {
  return size > 1 && op.isPredefined && isTypedArray(value) && value.byteLength >= ringThreshold(size, ringMinBytes) && value.length >= size;
}

/**
 * Which algorithm an allreduce of `value` takes on `size` ranks: recursive
 * doubling for anything but a typed array of at least `size` elements under
 * a predefined op, else the model's choice by its byte length
 * (model.ts allreduceAlgorithm), or the one MPI4TS_ALGO_ALLREDUCE forces.
 * The length is one MPI requires alike on every rank; where a wrong program
 * passes different ones, Rabenseifner's and the ring both begin with the
 * shapes' recursive doubling, and recursive doubling's first exchange is
 * met by a shape: every rank fails alike (reduceStep).
 */
export function allreduceChoice(value: unknown, op: Op, size: number, ringMinBytes: number,
  forced: 'auto' | AllreduceAlgorithm): AllreduceAlgorithm {
  if (size <= 1 || !op.isPredefined || !isTypedArray(value) || value.length < size) return 'doubling';
  return forced === 'auto' ? allreduceAlgorithm(size, value.byteLength, ringMinBytes) : forced;
}
