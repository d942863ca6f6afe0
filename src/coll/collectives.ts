/**
 * Each collective as the library runs it: data-level checks (which become
 * failures that travel with the data, so every rank learns of them), then the
 * algorithm chosen by size and message length.
 */
import { MPIError } from '../base/index.js';
import { Failure, type Channel } from './channel.js';
import { describe, isTypedArray, type Op, type TypedArray } from './op.js';
import { barrierDissemination } from './barrier.js';
import { bcastBinomial } from './bcast.js';
import { allgatherRecursiveDoubling, gatherBinomial, scatterBinomial } from './scatter-gather.js';
import { allreduceRecursiveDoubling, allreduceRing, takesRing } from './allreduce.js';
import { reduceBinomial } from './reduce.js';
import { reduceScatterBinomial, reduceScatterRing } from './reduce-scatter.js';
import { isNothing, scanRecursiveDoubling } from './scan.js';
import { alltoallPairwise } from './alltoall.js';
import { allgathervRecursiveDoubling, checkTypedArray, gathervLinear, offsetsOf, scattervBinomial } from './vector.js';
import { noteFailure } from './step.js';

/** Typed arrays of at least this many bytes reduce by ring (MPI4TS_RING_MIN_BYTES; default 64 KiB). */
export function ringMinBytes(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.MPI4TS_RING_MIN_BYTES;
  if (text === undefined || text === '') return 64 * 1024;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`MPI4TS_RING_MIN_BYTES="${text}" must be an integer >= 0`);
  return value;
}
const RING_MIN_BYTES = ringMinBytes();

/** A local check that fails this rank's contribution instead of throwing, so peers learn of it too. */
function guard<T>(ch: Channel, check: () => T): T | Failure {
  try {
    return check();
  } catch (err) {
    return noteFailure(ch, err);
  }
}

function itemsFor(ch: Channel, values: unknown, what: string): unknown[] | Failure {
  return guard(ch, () => {
    if (!Array.isArray(values)) throw new TypeError(`${what} must be an array of ${ch.size} items (one per rank), got ${describe(values)}`);
    if (values.length !== ch.size) {
      throw new MPIError('ERR_COUNT', `${what} must be an array of ${ch.size} items (one per rank), got an array of length ${values.length}`);
    }
    return values as unknown[];
  });
}

export const barrier = (ch: Channel): Promise<void> => barrierDissemination(ch);

export const bcast = (ch: Channel, value: unknown, root: number): Promise<unknown> => bcastBinomial(ch, value, root);

export function scatter(ch: Channel, values: unknown, root: number): Promise<unknown> {
  return scatterBinomial(ch, ch.rank === root ? itemsFor(ch, values, 'values at the root') : null, root);
}

export const gather = (ch: Channel, value: unknown, root: number): Promise<unknown[] | null> => gatherBinomial(ch, value, root);

export const allgather = (ch: Channel, value: unknown): Promise<unknown[] | null> => allgatherRecursiveDoubling(ch, value);

export function alltoall(ch: Channel, values: unknown): Promise<unknown[]> {
  return alltoallPairwise(ch, itemsFor(ch, values, 'values'));
}

/**
 * Allreduce: the ring for typed arrays of at least `ringMinBytes` bytes
 * (MPI4TS_RING_MIN_BYTES unless a caller, a unit test, picks another),
 * recursive doubling for the rest.
 */
export function allreduce(ch: Channel, value: unknown, op: Op, ringMinBytes = RING_MIN_BYTES): Promise<unknown> {
  return takesRing(value, op, ch.size, ringMinBytes) ? allreduceRing(ch, value, op) : allreduceRecursiveDoubling(ch, value, op);
}

/**
 * Allreduce into the caller's typed array (as mpi4py's Allreduce(sendbuf,
 * recvbuf)): no allocation on the ring path, where the result is received
 * straight into `recv`. `recv === send` reduces in place. A `recv` of another
 * type or length fails on every rank, since the others could not go on alone.
 */
export async function allreduceInto(ch: Channel, send: unknown, recv: unknown, op: Op, ringMinBytes = RING_MIN_BYTES): Promise<unknown> {
  const checked = guard(ch, () => {
    checkTypedArray(send, 'sendbuf');
    checkRecvbuf(send, recv);
    return send;
  });
  if (!(checked instanceof Failure) && takesRing(checked, op, ch.size, ringMinBytes)) {
    return allreduceRing(ch, checked, op, recv as TypedArray);
  }
  const result = await allreduce(ch, checked, op, ringMinBytes);
  if (isTypedArray(result) && result !== recv) (recv as TypedArray).set(result as never);
  return result instanceof Failure ? result : recv;
}

function checkRecvbuf(send: TypedArray, recv: unknown): asserts recv is TypedArray {
  checkTypedArray(recv, 'recvbuf');
  if (recv.constructor !== send.constructor || recv.length !== send.length) {
    throw new MPIError('ERR_COUNT', `recvbuf must have the type and length of sendbuf (${send.length} elements of ${send.constructor.name}), got ${recv.length} elements of ${recv.constructor.name}`);
  }
  if (recv !== send && recv.buffer === send.buffer
    && recv.byteOffset < send.byteOffset + send.byteLength && send.byteOffset < recv.byteOffset + recv.byteLength) {
    throw new MPIError('ERR_BUFFER', 'recvbuf overlaps sendbuf; pass the same array as both to reduce in place');
  }
}

/**
 * Reduce. Predefined ops are cheap, so they run as the allreduce, whose
 * recursive doubling takes no more rounds than a binomial tree and spreads a
 * bad operand's error to every rank; the root keeps the result. User ops,
 * which may be costly and non-commutative, go up a binomial tree.
 */
export async function reduce(ch: Channel, value: unknown, op: Op, root: number, ringMinBytes = RING_MIN_BYTES): Promise<unknown> {
  const result = op.isPredefined ? await allreduce(ch, value, op, ringMinBytes) : await reduceBinomial(ch, value, op, root);
  return ch.rank === root ? result : null;
}

export async function scan(ch: Channel, value: unknown, op: Op, exclusive: boolean): Promise<unknown> {
  const prefix = await scanRecursiveDoubling(ch, value, op);
  if (prefix instanceof Failure) return null;
  const result = exclusive ? prefix.exclusive : prefix.inclusive;
  return isNothing(result) ? null : result;
}

export function gatherv(ch: Channel, send: unknown, counts: readonly number[] | null, root: number): Promise<TypedArray | null> {
  const checkedCounts = ch.rank === root ? guard(ch, () => { offsetsOf(counts, ch.size, 'counts'); return counts!; }) : null;
  if (!isTypedArray(send)) {
    const failure = noteFailure(ch, new TypeError(`sendbuf must be a typed array, got ${describe(send)}`));
    return gathervLinear(ch, new Uint8Array(0), ch.rank === root ? failure : null, root);
  }
  return gathervLinear(ch, send, checkedCounts, root);
}

export function scatterv(ch: Channel, send: unknown, counts: readonly number[] | null, root: number): Promise<unknown> {
  const checked = ch.rank !== root ? null : guard(ch, () => {
    checkTypedArray(send, 'sendbuf at the root');
    const { total } = offsetsOf(counts, ch.size, 'counts');
    if (send.length !== total) {
      throw new MPIError('ERR_COUNT', `sendbuf at the root has ${send.length} elements but the counts add up to ${total}`);
    }
    return send;
  });
  return scattervBinomial(ch, checked, counts, root);
}

export function allgatherv(ch: Channel, send: unknown, counts: readonly number[]): Promise<TypedArray | null> {
  const checked = guard(ch, () => {
    checkTypedArray(send, 'sendbuf');
    offsetsOf(counts, ch.size, 'counts');
    return send;
  });
  return allgathervRecursiveDoubling(ch, checked, counts);
}

export function reduceScatter(ch: Channel, send: unknown, counts: readonly number[], op: Op): Promise<unknown> {
  const checked = guard(ch, () => {
    checkTypedArray(send, 'sendbuf');
    const { total } = offsetsOf(counts, ch.size, 'counts');
    if (send.length !== total) {
      throw new MPIError('ERR_COUNT', `sendbuf has ${send.length} elements but the counts add up to ${total}`);
    }
    const problem = op.problem(send);
    if (problem !== null) throw new TypeError(problem);
    return send;
  });
  // Predefined ops are element-wise and commute: the ring. User ops combine whole arrays in rank order.
  return op.isPredefined ? reduceScatterRing(ch, checked, counts, op) : reduceScatterBinomial(ch, checked, counts, op);
}
