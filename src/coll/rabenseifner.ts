/**
 * Rabenseifner's allreduce (Rabenseifner 2004; Thakur, Rabenseifner and
 * Gropp 2005; MPICH's allreduce_intra_reduce_scatter_allgather): a
 * reduce-scatter by recursive halving, then an allgather by recursive
 * doubling, over typed arrays under predefined ops. Each rank sends and
 * receives (q-1)/q of the array each way, as the ring does, but in 2 log2 q
 * steps to the ring's 2(p-1): the bandwidth of the ring at the latency of
 * recursive doubling, for arrays too long for doubling's whole-array rounds
 * (model.ts allreduceAlgorithm says where).
 *
 * Off a power of two the extra ranks fold in first, as MPICH's do (Fold in
 * step.ts): of the first 2*rem ranks each even one sends its whole array to
 * the odd one above, which reduces it and stands for both, and gets the
 * result back at the end. Those two whole-array messages are what makes the
 * ring cheaper for long arrays off a power of two.
 *
 * The array is cut into q chunks (chunkStarts); survivor r ends the halving
 * owning chunk r, reduced over every rank, and the doubling hands each
 * survivor the chunks it lacks. Every chunk is reduced by one rank only and
 * then copied, so all ranks get the same bits, as the ring's do.
 *
 * As in the ring (ring.ts), chunks travel as raw bytes with no room for
 * failure markers: the ranks first agree on shapes (agreeOnShapes), and the
 * passes check nothing. The predefined ops commute, so combining in halving
 * order rather than rank order is allowed.
 *
 * # Unfinished features
 * - User ops, commutative or not (MPICH runs non-commutative ones by
 *   recursive doubling too): they take recursive doubling.
 */
import { Failure, type Channel } from './channel.js';
import type { Op, TypedArray } from './op.js';
import { Fold, newLike } from './step.js';
import { agreeOnShapes } from './allreduce.js';
import { chunkStarts, postSegments, recvSegments, segmentCuts, sendSegments } from './ring.js';
import { acquireLike, release } from './scratch.js';

/**
 * Rabenseifner's allreduce of `value` into `output` (a new array when none
 * is given; `output === value` reduces in place). Like allreduceRing, the
 * input is not copied: the first step receives the partner's half straight
 * into its place in `output` and adds this rank's own half from `value`;
 * scratch memory (scratch.ts) takes the partner's data only where it cannot
 * land in its place (in place, and the steps after the first).
 */
export async function allreduceRabenseifner<A extends TypedArray>(ch: Channel, value: A, op: Op, output?: A): Promise<A | Failure> {
  const agreed = await agreeOnShapes(ch, value, op);
  if (agreed !== null) return agreed;
  const result = output ?? newLike(value, value.length);
  const { rank, size } = ch;
  if (size === 1) {
    if (result !== value) result.set(value as never);
    return result;
  }
  const fold = new Fold(rank, size);
  if (fold.newRank < 0) {
    // Folded out: the odd rank above reduces for both and hands back the result.
    await sendSegments(ch, rank + 1, value);
    await recvSegments(ch, rank + 1, result);
    return result;
  }
  const starts = chunkStarts(value.length, fold.pof2);
  const scratch = acquireLike(value, scratchLength(value, result, fold, starts));
  try {
    // Where this rank's partial result is: its input until the first step lands in `result`.
    let partial: TypedArray = value;
    if (fold.absorbsLower) {
      await exchangeReduce(ch, rank - 1, null, result, value, scratch, op);
      partial = result;
    }
    for (let mask = fold.pof2 >> 1; mask >= 1; mask >>= 1) {
      const lo = fold.newRank & ~(2 * mask - 1);
      const upper = (fold.newRank & mask) !== 0;
      const [keepFrom, keepTo] = upper ? [lo + mask, lo + 2 * mask] : [lo, lo + mask];
      const [sendFrom, sendTo] = upper ? [lo, lo + mask] : [lo + mask, lo + 2 * mask];
      const peer = fold.realRank(fold.newRank ^ mask);
      const outgoing = partial.subarray(starts[sendFrom], starts[sendTo]);
      await exchangeReduce(ch, peer, outgoing, result.subarray(starts[keepFrom], starts[keepTo]),
        partial.subarray(starts[keepFrom], starts[keepTo]), scratch, op);
      partial = result;
    }
    for (let mask = 1; mask < fold.pof2; mask <<= 1) {
      const own = fold.newRank & ~(mask - 1);
      const theirs = (fold.newRank ^ mask) & ~(mask - 1);
      const peer = fold.realRank(fold.newRank ^ mask);
      await Promise.all([
        sendSegments(ch, peer, result.subarray(starts[own], starts[own + mask])),
        recvSegments(ch, peer, result.subarray(starts[theirs], starts[theirs + mask])),
      ]);
    }
    if (fold.absorbsLower) await sendSegments(ch, rank - 1, result);
    return result;
  } finally {
    release(scratch);
  }
}

/**
 * The scratch a survivor needs: the largest block it receives where it
 * cannot land in its place. In place, the fold's whole array and the first
 * step's half; otherwise only the later steps' blocks, at most a quarter of
 * the array (none on two ranks, one element kept so that acquireLike has a length).
 */
function scratchLength(value: TypedArray, result: TypedArray, fold: Fold, starts: readonly number[]): number {
  const q = fold.pof2;
  if (result === value) return Math.max(1, fold.absorbsLower ? value.length : largestBlock(starts, q >> 1));
  return Math.max(1, q >= 4 ? largestBlock(starts, q >> 2) : 0, fold.absorbsLower ? largestBlock(starts, q >> 1) : 0);
}

/** The most elements in any aligned run of `chunks` chunks. */
function largestBlock(starts: readonly number[], chunks: number): number {
  let largest = 0;
  for (let i = 0; i + chunks < starts.length; i += chunks) largest = Math.max(largest, starts[i + chunks]! - starts[i]!);
  return largest;
}

/**
 * One step of the halving (or the fold's receive, `outgoing` null): sends
 * `outgoing` to `peer` while receiving the peer's partial block for `place`,
 * then place = own op received, segment by segment as each lands (as the
 * ring's steps do). The block lands straight in `place` when `own` is other
 * memory (this rank's input), in `scratch` when `own` is `place` itself.
 */
async function exchangeReduce(ch: Channel, peer: number, outgoing: TypedArray | null, place: TypedArray, own: TypedArray,
  scratch: TypedArray, op: Op): Promise<void> {
  const landing = own === place || (own.byteOffset === place.byteOffset && own.buffer === place.buffer)
    ? scratch.subarray(0, place.length) : place;
  const addend = landing === place ? own : landing;
  const cuts = segmentCuts(place.length, place.BYTES_PER_ELEMENT);
  const lands = postSegments(ch, peer, landing, cuts);
  const sending = outgoing === null ? null : sendSegments(ch, peer, outgoing);
  for (let j = 0; j < lands.length; j++) {
    await lands[j];
    op.accumulate(place.subarray(cuts[j], cuts[j + 1]), addend.subarray(cuts[j], cuts[j + 1]));
  }
  await sending;
}
