/**
 * The typed-array variants with counts (MPI 4.1 sections 6.5-6.7): gatherv,
 * scatterv and allgatherv, giving a new array. Here rank i's part is the
 * `counts[i]` elements after the parts of ranks 0..i-1; with displacements,
 * and into the caller's buffer, the calls run as buffers.ts's.
 *
 * # Unfinished features
 * - **6.5**-**6.7**: parts of another datatype than the receive side's
 *   (chapter 5's derived datatypes).
 * - **6.13.3**-**6.13.5**: MPI_Gatherv_init, MPI_Scatterv_init, MPI_Allgatherv_init.
 */
import { MPIError } from '../base/index.js';
import { Failure, type Channel } from './channel.js';
import { describe, isTypedArray, type TypedArray } from './op.js';
import { allgatherRecursiveDoubling, scatterBinomial } from './scatter-gather.js';
import { newLike, noteFailure, sliceOf } from './step.js';

/** Start of each rank's part and the total, or the reason the counts are bad. */
export function offsetsOf(counts: unknown, size: number, what: string): { offsets: number[]; total: number } {
  if (!Array.isArray(counts) || counts.length !== size) {
    throw new MPIError('ERR_COUNT', `${what} must be an array of ${size} counts (one per rank), got ${describe(counts)}`);
  }
  const offsets: number[] = [];
  let total = 0;
  counts.forEach((count: unknown, i) => {
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      throw new MPIError('ERR_COUNT', `${what}[${i}] is ${String(count)}; counts must be integers >= 0`);
    }
    offsets.push(total);
    total += count;
  });
  return { offsets, total };
}

export function checkTypedArray(value: unknown, what: string): asserts value is TypedArray {
  if (!isTypedArray(value)) throw new TypeError(`${what} must be a typed array, got ${describe(value)}`);
}

/** What a rank whose part is bad sends in its place: raw parts have no room for a failure marker. */
const NO_PART = new Uint8Array(0);

/**
 * Linear gatherv, as MPICH does for the v-variants: each rank sends its part
 * straight to the root, which receives it in place in the result and checks
 * its size against its count. A rank with a bad part sends an empty one, so
 * the root is not left waiting (and reports it, unless its count is 0).
 */
export async function gathervLinear<A extends TypedArray>(ch: Channel, send: A | Failure, counts: readonly number[] | Failure | null,
  root: number): Promise<A | Failure | null> {
  const { rank, size } = ch;
  if (rank !== root) {
    await ch.send(root, send instanceof Failure ? NO_PART : send);
    return null;
  }
  if (counts instanceof Failure || send instanceof Failure) {
    // Drain every part so nothing of this call stays queued, then fail.
    await Promise.all(Array.from({ length: size }, (_, r) => (r === root ? null : ch.recv(r))));
    return noteFailure(ch, counts instanceof Failure ? counts : send);
  }
  const { offsets, total } = offsetsOf(counts, size, 'counts');
  const result = newLike(send, total);
  const receives = Array.from({ length: size }, async (_, r) => {
    const expected = counts![r]!;
    const place = result.subarray(offsets[r], offsets[r]! + expected);
    if (r === root) {
      if (send.length !== expected) throw countMismatch(r, `${send.length} elements`, expected, send);
      place.set(send as never);
      return;
    }
    // Too long a part, or a value, is a Failure the channel noted; too short a one is counted here.
    const got = await ch.recvInto(r, place);
    if (!(got instanceof Failure) && got !== place.byteLength) throw countMismatch(r, `${got / send.BYTES_PER_ELEMENT} elements`, expected, send);
  });
  const outcomes = await Promise.allSettled(receives);
  for (const outcome of outcomes) if (outcome.status === 'rejected') noteFailure(ch, outcome.reason);
  return ch.failure ?? result;
}

function countMismatch(rank: number, got: string, expected: number, sample: TypedArray): MPIError {
  return new MPIError('ERR_COUNT', `rank ${rank} sent ${got} but counts[${rank}] is ${expected} elements of ${sample.constructor.name}`);
}

/**
 * Scatterv by binomial tree over the parts (each rank receives its subtree's
 * parts from its parent); the root's bad input travels down as a failure, so
 * every rank fails. `send` and `counts` are significant at the root only.
 */
export async function scattervBinomial<A extends TypedArray>(ch: Channel, send: A | Failure | null, counts: readonly number[] | null,
  root: number): Promise<A | Failure> {
  let parts: A[] | Failure | null = null;
  if (ch.rank === root) {
    if (send instanceof Failure || send === null) parts = send;
    else {
      const { offsets } = offsetsOf(counts, ch.size, 'counts');
      parts = offsets.map((start, r) => sliceOf(send, start, start + counts![r]!));
    }
  }
  return scatterBinomial(ch, parts, root);
}

/**
 * Allgatherv: recursive-doubling allgather of the parts, then every rank
 * checks them against the counts (so all fail alike) and joins them.
 */
export async function allgathervRecursiveDoubling<A extends TypedArray>(ch: Channel, send: A | Failure,
  counts: readonly number[]): Promise<A | Failure> {
  const parts = await allgatherRecursiveDoubling(ch, send);
  if (parts instanceof Failure) return parts;
  if (send instanceof Failure) return send;
  const { offsets, total } = offsetsOf(counts, ch.size, 'counts');
  const result = newLike(send, total);
  for (let r = 0; r < ch.size; r++) {
    // Each part is checked: a peer's typed array differs from this rank's only in a wrong program, but then it may.
    const part: unknown = parts[r];
    if (!isTypedArray(part) || part.constructor !== send.constructor || part.length !== counts[r]) {
      return noteFailure(ch, new MPIError('ERR_COUNT', `rank ${r} sent ${describe(part)} but counts[${r}] is ${counts[r]} elements of ${send.constructor.name}`));
    }
    result.set(part as never, offsets[r]);
  }
  return result;
}
