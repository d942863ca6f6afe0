/**
 * The two passes of the ring allreduce (Patarasuk and Yuan), over typed
 * arrays cut into one chunk per rank: chunk i is [starts[i], starts[i + 1]).
 * allreduceRing runs both; reduceScatterRing the first.
 *
 * Chunks travel as raw bytes, with no room for failure markers: the ranks
 * agree on shapes before either pass, and the passes check nothing.
 *
 * # Unfinished features
 * None of its own: it serves the algorithms, whose modules list theirs.
 */
import type { Channel } from './channel.js';
import type { Op, TypedArray } from './op.js';
import { acquireLike, release } from './scratch.js';

/** Where each of `parts` near-equal chunks of `length` elements starts, and the end: `parts + 1` numbers. */
export function chunkStarts(length: number, parts: number): number[] {
  return Array.from({ length: parts + 1 }, (_, i) => Math.floor((i * length) / parts));
}

/**
 * Reduce-scatter pass: in size-1 steps each rank passes one chunk to its
 * right neighbour and reduces the one from its left neighbour; afterwards
 * chunk r of rank r's `output` is the reduction of every rank's chunk r (its
 * other chunks hold partial results). Each rank sends and receives
 * (size-1)/size of the data: bandwidth-optimal. Predefined ops only: the
 * chunks are combined in ring order, not rank order, so the op must commute.
 *
 * From `input` into another array `output`, each step receives the partial
 * chunk straight into its place in `output` and adds this rank's chunk of
 * `input` to it, and the first step sends straight from `input`: no copy of
 * the input and no scratch memory (fresh memory costs a page fault per 4 KiB
 * page, more than copying the data). In place (`output === input`) the
 * partial chunk would overwrite this rank's own operand, so it lands in a
 * scratch chunk and is added from there.
 */
export async function ringReduceScatter(ch: Channel, input: TypedArray, output: TypedArray, op: Op,
  starts: readonly number[]): Promise<void> {
  const { rank, size } = ch;
  if (size === 1) {
    // No step: the reduction of one operand is that operand.
    if (output !== input) output.set(input as never);
    return;
  }
  const right = (rank + 1) % size;
  const left = (rank - 1 + size) % size;
  const scratch = output === input ? acquireLike(input, largestChunk(starts)) : null;
  for (let step = 0; step < size - 1; step++) {
    const sent = (rank - step - 1 + size) % size;
    const received = (rank - step - 2 + 2 * size) % size;
    const outgoing = (step === 0 ? input : output).subarray(starts[sent], starts[sent + 1]);
    const place = output.subarray(starts[received], starts[received + 1]);
    const landing = scratch === null ? place : scratch.subarray(0, place.length);
    await Promise.all([ch.send(right, outgoing), ch.recvInto(left, landing)]);
    op.accumulate(place, landing === place ? input.subarray(starts[received], starts[received + 1]) : landing);
  }
  if (scratch !== null) release(scratch);
}

/**
 * Allgather pass: rank r starts with chunk r of `buf`; in size-1 steps each
 * passes the chunk it got last to its right neighbour, receiving straight
 * into its place in `buf`.
 */
export async function ringAllgather(ch: Channel, buf: TypedArray, starts: readonly number[]): Promise<void> {
  const { rank, size } = ch;
  const right = (rank + 1) % size;
  const left = (rank - 1 + size) % size;
  for (let step = 0; step < size - 1; step++) {
    const sent = (rank - step + size) % size;
    const received = (rank - step - 1 + size) % size;
    const outgoing = buf.subarray(starts[sent], starts[sent + 1]);
    await Promise.all([ch.send(right, outgoing), ch.recvInto(left, buf.subarray(starts[received], starts[received + 1]))]);
  }
}

function largestChunk(starts: readonly number[]): number {
  let largest = 0;
  for (let i = 0; i + 1 < starts.length; i++) largest = Math.max(largest, starts[i + 1]! - starts[i]!);
  return largest;
}
