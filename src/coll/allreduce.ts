/** Allreduce and reduce (MPI 4.0 sections 6.9-6.10). */
import { Failure, type Channel } from './channel.js';
import { isTypedArray, type Op, type TypedArray } from './op.js';
import { AGREE_SHAPES, Fold, exchange, noteFailure, ownOperand, reduceStep, shapeOf } from './step.js';

/**
 * Recursive doubling with the non-power-of-two fold: survivors exchange
 * partial results with the partner at distance 2^k in log2 rounds, each
 * combining the lower block first, so non-commutative ops keep rank order;
 * then the ranks that sat out get the result. Every rank's result depends
 * on every input, so a failure anywhere reaches every rank.
 */
export async function allreduceRecursiveDoubling(ch: Channel, value: unknown, op: Op): Promise<unknown> {
  const fold = new Fold(ch.rank, ch.size);
  let acc = ownOperand(ch, op, value);
  if (fold.newRank < 0) {
    await ch.send(ch.rank + 1, acc);
    return ch.recv(ch.rank + 1);
  }
  if (fold.absorbsLower) acc = reduceStep(ch, op, acc, await ch.recv(ch.rank - 1), true);
  for (let mask = 1; mask < fold.pof2; mask *= 2) {
    const partner = fold.newRank ^ mask;
    const incoming = await exchange(ch, fold.realRank(partner), acc);
    acc = reduceStep(ch, op, acc, incoming, partner < fold.newRank);
  }
  if (fold.absorbsLower) await ch.send(ch.rank - 1, acc);
  return acc;
}

/** Chunk i of n elements split over `parts`: [start, end). */
export function chunkBounds(n: number, parts: number, i: number): [number, number] {
  return [Math.floor((i * n) / parts), Math.floor(((i + 1) * n) / parts)];
}

/**
 * Ring reduce-scatter, in place: in size-1 steps each rank passes one chunk to
 * its right neighbour and reduces the chunk from its left one into `buf`;
 * afterwards rank r holds chunk r fully reduced. Each rank sends and receives
 * (size-1)/size of the data: bandwidth-optimal. Shapes must be agreed first
 * (the chunks arrive as raw bytes, with no room for failure markers).
 * Predefined (commutative) ops only: the chunks are reduced in ring order.
 */
export async function reduceScatterRing(ch: Channel, buf: TypedArray, op: Op,
  bounds: (i: number) => [number, number]): Promise<void> {
  const { rank, size } = ch;
  const right = (rank + 1) % size;
  const left = (rank - 1 + size) % size;
  let largest = 0;
  for (let i = 0; i < size; i++) largest = Math.max(largest, bounds(i)[1] - bounds(i)[0]);
  const scratch = new (buf.constructor as new (n: number) => TypedArray)(largest);
  for (let step = 0; step < size - 1; step++) {
    const [sendStart, sendEnd] = bounds((rank - step - 1 + 2 * size) % size);
    const [recvStart, recvEnd] = bounds((rank - step - 2 + 2 * size) % size);
    const incoming = scratch.subarray(0, recvEnd - recvStart);
    await Promise.all([ch.send(right, buf.subarray(sendStart, sendEnd)), ch.recvInto(left, incoming)]);
    op.accumulate(buf.subarray(recvStart, recvEnd), incoming);
  }
}

/**
 * Ring allgather, in place: rank r starts with chunk r of `buf`; in size-1
 * steps each passes the chunk it got last to its right neighbour, receiving
 * straight into its place in `buf`.
 */
export async function allgatherRing(ch: Channel, buf: TypedArray, bounds: (i: number) => [number, number]): Promise<void> {
  const { rank, size } = ch;
  const right = (rank + 1) % size;
  const left = (rank - 1 + size) % size;
  for (let step = 0; step < size - 1; step++) {
    const [sendStart, sendEnd] = bounds((rank - step + size) % size);
    const [recvStart, recvEnd] = bounds((rank - step - 1 + size) % size);
    await Promise.all([ch.send(right, buf.subarray(sendStart, sendEnd)), ch.recvInto(left, buf.subarray(recvStart, recvEnd))]);
  }
}

/**
 * Ring reduce-scatter from `input` into `output`, two distinct arrays of one
 * shape: each step receives the partial chunk from the left neighbour straight
 * into its place in `output` and adds this rank's own chunk of `input` to it;
 * the first step sends straight from `input`. Afterwards rank r holds chunk r
 * fully reduced in `output`. Neither a copy of the input nor scratch memory:
 * fresh memory costs a page fault per 4 KiB page, more than the data's copy.
 */
export async function reduceScatterRingInto(ch: Channel, input: TypedArray, output: TypedArray, op: Op,
  bounds: (i: number) => [number, number]): Promise<void> {
  const { rank, size } = ch;
  // One rank takes no step: its chunk of the reduction is its own input.
  if (size === 1) output.set(input as never);
  const right = (rank + 1) % size;
  const left = (rank - 1 + size) % size;
  for (let step = 0; step < size - 1; step++) {
    const [sendStart, sendEnd] = bounds((rank - step - 1 + 2 * size) % size);
    const [recvStart, recvEnd] = bounds((rank - step - 2 + 2 * size) % size);
    const outgoing = (step === 0 ? input : output).subarray(sendStart, sendEnd);
    const partial = output.subarray(recvStart, recvEnd);
    await Promise.all([ch.send(right, outgoing), ch.recvInto(left, partial)]);
    op.accumulate(partial, input.subarray(recvStart, recvEnd));
  }
}

/**
 * Ring allreduce (as Patarasuk and Yuan; Baidu's "ring allreduce"): the ranks
 * first agree on type and length by recursive doubling on the shapes (cheap
 * next to the data, and a mismatch then fails on every rank), then a ring
 * reduce-scatter and a ring allgather. The result goes to `output` (a new
 * array when none is given); `output === value` reduces in place.
 */
export async function allreduceRing(ch: Channel, value: TypedArray, op: Op, output?: TypedArray): Promise<unknown> {
  // An array the op cannot take (BXOR on floats) fails in the agreement, where a failure
  // reaches every rank; in the ring each rank's op would throw on its own.
  const problem = op.problem(value);
  const shape = problem === null ? shapeOf(value) : noteFailure(ch, new TypeError(problem));
  const agreed = await allreduceRecursiveDoubling(ch, shape, AGREE_SHAPES);
  if (agreed instanceof Failure) return agreed;
  const bounds = (i: number): [number, number] => chunkBounds(value.length, ch.size, i);
  const result = output ?? new (value.constructor as new (n: number) => TypedArray)(value.length);
  if (result === value) await reduceScatterRing(ch, result, op, bounds);
  else await reduceScatterRingInto(ch, value, result, op, bounds);
  await allgatherRing(ch, result, bounds);
  return result;
}

/** Should a typed array take the bandwidth-optimal ring? */
export function takesRing(value: unknown, op: Op, size: number, ringMinBytes: number): value is TypedArray {
  return size > 1 && op.isPredefined && isTypedArray(value) && value.byteLength >= ringMinBytes && value.length >= size;
}

/**
 * Binomial reduce. A commutative op uses the tree rooted at `root`; a
 * non-commutative one the tree rooted at 0, where each rank's block
 * [r, r + 2^k) takes its children's blocks in increasing order, so the op
 * sees operands in rank order; rank 0 then passes the result to the root.
 */
export async function reduceBinomial(ch: Channel, value: unknown, op: Op, root: number): Promise<unknown> {
  const { rank, size } = ch;
  const treeRoot = op.commute ? root : 0;
  const relative = (rank - treeRoot + size) % size;
  let acc = ownOperand(ch, op, value);
  let mask = 1;
  for (; mask < size; mask *= 2) {
    if ((relative & mask) !== 0) {
      await ch.send((rank - mask + size) % size, acc);
      break;
    }
    if (relative + mask < size) acc = reduceStep(ch, op, acc, await ch.recv((rank + mask) % size), false);
  }
  if (treeRoot === root) return rank === root ? acc : null;
  if (rank === treeRoot) {
    await ch.send(root, acc);
    return null;
  }
  return rank === root ? ch.recv(treeRoot) : null;
}
