/**
 * Each collective as the library runs it: data-level checks (which become
 * failures that travel with the data, so every rank learns of them), then the
 * algorithm chosen by size and message length.
 *
 * # Unfinished features
 * None of its own: index.ts lists the folder's, each algorithm's module
 * those of its area.
 */
import { MPIError, options } from '../base/index.js';
import { Failure, type Channel } from './channel.js';
import { describe, type Op, type TypedArray } from './op.js';
import { barrierDissemination } from './barrier.js';
import { bcastBinomial } from './bcast.js';
import { allgatherBruck, allgatherRecursiveDoubling, gatherBinomial, scatterBinomial } from './scatter-gather.js';
import { allreduceChoice, allreduceRecursiveDoubling, allreduceRing } from './allreduce.js';
import { allreduceRabenseifner } from './rabenseifner.js';
import type { AllreduceAlgorithm } from '../base/index.js';
import { reduceBinomial } from './reduce.js';
import { reduceScatterBinomial, reduceScatterRing } from './reduce-scatter.js';
import { isNothing, scanRecursiveDoubling } from './scan.js';
import { alltoallBruck, alltoallPairwise } from './alltoall.js';
import { alltoallAlgorithm } from './model.js';
import { allgathervRecursiveDoubling, checkTypedArray, gathervLinear, offsetsOf, scattervBinomial } from './vector.js';
import { guard, newLike } from './step.js';
import { bcastTwoLevel, spansHosts } from './hierarchy.js';
import { allreducePair, allgathervInto, gathervInto, scattervInto } from './buffers.js';
import { checkPerRank, extentOf, type Buf, type InPlace } from './buffer.js';


/** `values` as one item per rank, or why it is not (a JavaScript caller may pass anything). */
function itemsFor<T>(ch: Channel, values: readonly T[] | null, what: string): readonly T[] | Failure {
  return guard(ch, () => {
    if (!Array.isArray(values)) throw new TypeError(`${what} must be an array of ${ch.size} items (one per rank), got ${describe(values)}`);
    if (values.length !== ch.size) {
      throw new MPIError('ERR_COUNT', `${what} must be an array of ${ch.size} items (one per rank), got an array of length ${values.length}`);
    }
    return values;
  });
}

export function barrier(ch: Channel): Promise<void> {
  return barrierDissemination(ch);
}

export function bcast<T>(ch: Channel, value: T, root: number): Promise<T | Failure> {
  return spansHosts(ch) ? bcastTwoLevel(ch, value, root) : bcastBinomial(ch, value, root);
}

export function scatter<T>(ch: Channel, values: readonly T[] | null, root: number): Promise<T | Failure> {
  return scatterBinomial(ch, ch.rank === root ? itemsFor(ch, values, 'values at the root') : null, root);
}

/** Every rank's value in rank order at the root; null elsewhere. */
export function gather<T>(ch: Channel, value: T, root: number): Promise<T[] | null | Failure> {
  return gatherBinomial(ch, value, root);
}

/** Recursive doubling on a power of two; elsewhere Bruck's, which needs no fold (two rounds fewer). */
export function allgather<T>(ch: Channel, value: T): Promise<T[] | Failure> {
  return (ch.size & (ch.size - 1)) === 0 ? allgatherRecursiveDoubling(ch, value) : allgatherBruck(ch, value);
}

/**
 * Bruck's from 8 ranks, where the model finds its log2 rounds cheaper for
 * small items and this machine measured it faster (model.ts
 * alltoallAlgorithm: a value's size is known only to its sender, so the
 * choice is by rank count alone); pairwise on fewer.
 * `algorithm` forces one (MPI4TS_ALGO_ALLTOALL).
 */
export function alltoall<T>(ch: Channel, values: readonly T[], algorithm = options().alltoallAlgorithm): Promise<T[] | Failure> {
  const items = itemsFor(ch, values, 'values');
  const chosen = algorithm === 'auto' ? alltoallAlgorithm(ch.size) : algorithm;
  return chosen === 'bruck' ? alltoallBruck(ch, items) : alltoallPairwise(ch, items);
}

/**
 * Allreduce: for typed arrays from the ring's threshold (MPI4TS_RING_MIN_BYTES,
 * read through base/options.ts, unless a caller, a unit test, picks another)
 * Rabenseifner's or the ring, as the cost model says (allreduceChoice);
 * recursive doubling for the rest. `algorithm` forces one (MPI4TS_ALGO_ALLREDUCE).
 */
export function allreduce<T>(ch: Channel, value: T, op: Op, ringMinBytes = options().ringMinBytes,
  algorithm = options().allreduceAlgorithm): Promise<T | Failure> {
  return allreduceByLength(ch, value, op, ringMinBytes, algorithm);
}

function allreduceByLength<T>(ch: Channel, value: T, op: Op, ringMinBytes: number, algorithm: 'auto' | AllreduceAlgorithm): Promise<T | Failure> {
  switch (allreduceChoice(value, op, ch.size, ringMinBytes, algorithm)) {
    case 'ring': return allreduceRing(ch, value as T & TypedArray, op);
    case 'rabenseifner': return allreduceRabenseifner(ch, value as T & TypedArray, op);
    case 'doubling': return allreduceRecursiveDoubling(ch, value, op);
  }
}

/**
 * Allreduce into the caller's typed array (as mpi4py's Allreduce(sendbuf,
 * recvbuf)): no allocation on the ring path, where the result is received
 * straight into `recv`. `recv === send` reduces in place. A `recv` of another
 * type or length fails on every rank, since the others could not go on alone.
 */
export function allreduceInto<A extends TypedArray>(ch: Channel, sendbuf: Buf<A> | InPlace, recvbuf: Buf<A>, op: Op,
  ringMinBytes = options().ringMinBytes, algorithm = options().allreduceAlgorithm): Promise<A | Failure> {
  return allreduceIntoRecvbuf(ch, allreducePair<A>(ch, sendbuf, recvbuf), op, ringMinBytes, algorithm);
}

async function allreduceIntoRecvbuf<A extends TypedArray>(ch: Channel, pair: { send: A; recv: A } | Failure, op: Op,
  ringMinBytes: number, algorithm: 'auto' | AllreduceAlgorithm): Promise<A | Failure> {
  const checked = pair instanceof Failure ? pair : guard(ch, () => {
    checkRecvbuf(pair.send, pair.recv);
    return pair.send;
  });
  const recv = pair instanceof Failure ? null : pair.recv;
  const choice = checked instanceof Failure ? 'doubling' : allreduceChoice(checked, op, ch.size, ringMinBytes, algorithm);
  if (choice === 'ring') return allreduceRing(ch, checked as A, op, recv!);
  if (choice === 'rabenseifner') return allreduceRabenseifner(ch, checked as A, op, recv!);
  const result = await allreduceRecursiveDoubling(ch, checked, op, checked instanceof Failure ? undefined : recv!);
  if (result instanceof Failure) return result;
  if (result !== recv) recv!.set(result as never);
  return recv!;
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
export function reduce<T>(ch: Channel, value: T, op: Op, root: number, ringMinBytes = options().ringMinBytes): Promise<T | null | Failure> {
  return op.isPredefined ? keptAtRoot(ch, allreduceByLength(ch, value, op, ringMinBytes, options().allreduceAlgorithm), root)
    : reduceBinomial(ch, value, op, root);
}

async function keptAtRoot<T>(ch: Channel, running: Promise<T | Failure>, root: number): Promise<T | Failure | null> {
  const result = await running;
  return ch.rank === root ? result : null;
}

/** Inclusive (MPI_Scan) or exclusive (MPI_Exscan, null on rank 0) prefix reduction. */
export function scan<T>(ch: Channel, value: T, op: Op, exclusive: false): Promise<T | Failure>;
export function scan<T>(ch: Channel, value: T, op: Op, exclusive: boolean): Promise<T | null | Failure>;
export function scan<T>(ch: Channel, value: T, op: Op, exclusive: boolean): Promise<T | null | Failure> {
  return prefixOf(ch, value, op, exclusive);
}

async function prefixOf<T>(ch: Channel, value: T, op: Op, exclusive: boolean): Promise<T | Failure | null> {
  const prefix = await scanRecursiveDoubling(ch, value, op);
  if (prefix instanceof Failure) return prefix;
  if (!exclusive) return prefix.inclusive;
  return isNothing(prefix.exclusive) ? null : prefix.exclusive;
}

/**
 * Every rank's part joined in rank order at the root; null elsewhere. With
 * displacements the parts land at them, in a new array just long enough.
 */
export function gatherv<A extends TypedArray>(ch: Channel, send: A, counts: readonly number[] | null, root: number,
  displs: readonly number[] | null = null): Promise<A | null | Failure> {
  if (displs !== null) return gathervInto(ch, send, ch.rank === root ? resultFor(ch, send, counts, displs) : null, counts, displs, root);
  const checkedCounts = ch.rank === root ? guard(ch, () => { offsetsOf(counts, ch.size, 'counts'); return counts!; }) : null;
  const checked = guard(ch, () => {
    checkTypedArray(send, 'sendbuf');
    return send;
  });
  return gathervLinear(ch, checked, checkedCounts, root);
}

export function scatterv<A extends TypedArray>(ch: Channel, send: A | null, counts: readonly number[] | null, root: number,
  displs: readonly number[] | null = null): Promise<A | Failure> {
  if (displs !== null) return scattervIntoNew(ch, send, counts, displs, root);
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

export function allgatherv<A extends TypedArray>(ch: Channel, send: A, counts: readonly number[],
  displs: readonly number[] | null = null): Promise<A | Failure> {
  if (displs !== null) return allgathervInto(ch, send, resultFor(ch, send, counts, displs), counts, displs);
  const checked = guard(ch, () => {
    checkTypedArray(send, 'sendbuf');
    offsetsOf(counts, ch.size, 'counts');
    return send;
  });
  return allgathervRecursiveDoubling(ch, checked, counts);
}

export function reduceScatter<A extends TypedArray>(ch: Channel, send: A, counts: readonly number[], op: Op): Promise<A | Failure> {
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

/**
 * A new array for the parts at `displs`, of `send`'s type, or the reason
 * there is none (bad counts or displacements; the call's checks name it).
 */
function resultFor<A extends TypedArray>(ch: Channel, send: unknown, counts: unknown, displs: readonly number[]): A | Failure {
  return guard(ch, () => {
    checkTypedArray(send, 'sendbuf');
    const c = checkPerRank(counts, ch.size, 'counts');
    return newLike(send as A, extentOf(c, checkPerRank(displs, ch.size, 'displs')));
  });
}

/** Scatterv with displacements: every rank's part arrives in a new array of its count, which only the root knows. */
async function scattervIntoNew<A extends TypedArray>(ch: Channel, send: A | null, counts: readonly number[] | null,
  displs: readonly number[], root: number): Promise<A | Failure> {
  if (ch.rank === root) {
    const own = guard(ch, () => {
      checkTypedArray(send, 'sendbuf at the root');
      return newLike(send, checkPerRank(counts, ch.size, 'counts')[root]!);
    });
    return scattervInto(ch, own instanceof Failure ? own : send, counts, displs, own, root);
  }
  // Off the root the count is not known: the part comes as a value.
  const part = await ch.recv<A>(root);
  return part;
}
