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
import type { Channel, Failure } from './channel.js';
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
    const own = landing === place ? input.subarray(starts[received], starts[received + 1]) : landing;
    // Segment by segment, every receive and send posted at once: each segment is reduced as soon as it
    // lands, while the left neighbour is still sending (or writing, on one host) the next.
    // The chunk sent is the one the right neighbour receives, cut there by the same rule.
    const cuts = segmentCuts(place.length, place.BYTES_PER_ELEMENT);
    const lands = postSegments(ch, left, landing, cuts);
    const sending = sendSegments(ch, right, outgoing);
    for (let j = 0; j < lands.length; j++) {
      await lands[j];
      op.accumulate(place.subarray(cuts[j], cuts[j + 1]), own.subarray(cuts[j], cuts[j + 1]));
    }
    await sending;
  }
  if (scratch !== null) release(scratch);
}

/**
 * 1 MiB: the size a segment of a ring step travels in. A whole chunk at
 * once (4 MB of a 1M-double reduce on two ranks) is reduced only after all
 * of it came, and passes through the shared-memory ring, the single copy of
 * cross-memory attach stopping at 2 MiB (options.ts says why); in segments
 * each is written straight into its place and reduced while the next
 * arrives. DESIGN.md "Collectives" gives the figures.
 */
export const RING_SEGMENT_BYTES = 1 << 20;

/**
 * Where each segment of a chunk of `length` elements starts, and its end.
 * Chunks up to `wholeUpTo` bytes go whole. The ring's default, twice
 * RING_SEGMENT_BYTES: cross-memory attach takes such a chunk in one copy
 * already, and on a host with more ranks than cores every further message
 * is one more wake-up (4 ranks on 2 cores, 2 MB chunks of a 1M-double
 * allreduce: 14.4 ms in 1 MiB segments against 12.4 whole). A pipeline
 * (reduce.ts reduceIntoChain) passes 0: it needs several segments.
 */
export function segmentCuts(length: number, bytesPerElement: number, wholeUpTo = 2 * RING_SEGMENT_BYTES): number[] {
  if (length * bytesPerElement <= wholeUpTo) return [0, length];
  const per = Math.max(1, Math.floor(RING_SEGMENT_BYTES / bytesPerElement));
  return chunkStarts(length, Math.max(1, Math.ceil(length / per)));
}

/** One receive from `source` per segment of `chunk` (cut at `cuts`), all posted at once, in segment order. */
export function postSegments(ch: Channel, source: number, chunk: TypedArray, cuts: readonly number[]): Promise<number | Failure>[] {
  const lands: Promise<number | Failure>[] = [];
  for (let j = 0; j + 1 < cuts.length; j++) lands.push(ch.recvInto(source, chunk.subarray(cuts[j], cuts[j + 1])));
  return lands;
}

/** `chunk` to `dest` segment by segment (segmentCuts' by default), all posted at once. */
export function sendSegments(ch: Channel, dest: number, chunk: TypedArray,
  cuts: readonly number[] = segmentCuts(chunk.length, chunk.BYTES_PER_ELEMENT)): Promise<unknown> {
  if (cuts.length === 2) return ch.send(dest, chunk);
  const sends: Promise<void>[] = [];
  for (let j = 0; j + 1 < cuts.length; j++) sends.push(ch.send(dest, chunk.subarray(cuts[j], cuts[j + 1])));
  return Promise.all(sends);
}

/** `chunk` from `source` in segmentCuts' segments, as sendSegments sent it. */
export function recvSegments(ch: Channel, source: number, chunk: TypedArray): Promise<unknown> {
  return Promise.all(postSegments(ch, source, chunk, segmentCuts(chunk.length, chunk.BYTES_PER_ELEMENT)));
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
    await Promise.all([sendSegments(ch, right, outgoing), recvSegments(ch, left, buf.subarray(starts[received], starts[received + 1]))]);
  }
}

function largestChunk(starts: readonly number[]): number {
  let largest = 0;
  for (let i = 0; i + 1 < starts.length; i++) largest = Math.max(largest, starts[i + 1]! - starts[i]!);
  return largest;
}
