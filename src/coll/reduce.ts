/**
 * Reduce (MPI 4.1 section 6.9.1) under a user op; predefined ops run as the
 * allreduce (collectives.ts), or on long arrays into the root's buffer as
 * a reduce-scatter and a gather (reduceIntoRing).
 *
 * # Unfinished features
 * - **6.13.7**: MPI_Reduce_init. (Into the root's buffer: reduceIntoRing
 *   here and buffers.ts; as a Request: Comm.ireduce.)
 */
import { Failure, type Channel } from './channel.js';
import type { Op, TypedArray } from './op.js';
import { BinomialTree } from './binomial-tree.js';
import { ownOperand, reduceStep } from './step.js';
import { agreeOnShapes } from './allreduce.js';
import { chunkStarts, postSegments, recvSegments, ringReduceScatter, segmentCuts, sendSegments } from './ring.js';
import { acquireLike, release } from './scratch.js';

/**
 * Binomial reduce. A commutative op uses the tree rooted at `root`; a
 * non-commutative one the tree rooted at 0, where each rank's subtree is the
 * ranks [r, r + 2^k) and takes its children's blocks nearest first, so the
 * op sees operands in rank order; rank 0 then passes the result to the root.
 */
export async function reduceBinomial<T>(ch: Channel, value: T | Failure, op: Op, root: number): Promise<T | Failure | null> {
  const { rank, size } = ch;
  const treeRoot = op.commute ? root : 0;
  const tree = new BinomialTree(rank, size, treeRoot);
  let acc = ownOperand(ch, op, value);
  for (const child of tree.children) acc = reduceStep(ch, op, acc, await ch.recv<T>(child), false);
  if (tree.parent >= 0) await ch.send(tree.parent, acc);
  if (treeRoot === root) return rank === root ? acc : null;
  // Rank order needed the tree rooted at 0: its result goes on to the root.
  if (rank === treeRoot) {
    await ch.send(root, acc);
    return null;
  }
  return rank === root ? ch.recv<T>(treeRoot) : null;
}

/**
 * Reduce of a long typed array into the root's buffer, for predefined ops
 * (Rabenseifner's reduce: a reduce-scatter, then a gather of the reduced
 * chunks). The ranks agree on shapes first (so raw chunks can travel
 * unchecked and a mismatch fails everywhere), then the ring reduce-scatter
 * leaves chunk r reduced on rank r, which sends it to the root, where it
 * lands in its place in `recv`. Each rank sends about twice (size-1)/size of
 * the data and does 1/size of the arithmetic, against the whole of both at
 * the root of a tree. Off the root the partial results go to kept scratch
 * memory: nothing is allocated per call. `recv === send` at the root reduces
 * in place (MPI_IN_PLACE).
 */
export async function reduceIntoRing<A extends TypedArray>(ch: Channel, send: A | Failure, recv: A | null, op: Op,
  root: number): Promise<Failure | null> {
  const agreed = await agreeOnShapes(ch, send, op);
  if (agreed !== null) return agreed;
  const input = send as A;
  const starts = chunkStarts(input.length, ch.size);
  const output = ch.rank === root ? recv! : acquireLike(input, input.length);
  try {
    await ringReduceScatter(ch, input, output, op, starts);
    const { rank, size } = ch;
    if (rank !== root) {
      await sendSegments(ch, root, output.subarray(starts[rank], starts[rank + 1]));
      return null;
    }
    const chunks: Promise<unknown>[] = [];
    for (let r = 0; r < size; r++) if (r !== root) chunks.push(recvSegments(ch, r, output.subarray(starts[r], starts[r + 1])));
    await Promise.all(chunks);
    return ch.failure;
  } finally {
    if (output !== recv) release(output);
  }
}

/**
 * Reduce of a long typed array as a pipelined chain, for predefined ops: the
 * ranks after the root in ring order pass the running reduction towards it,
 * segment by segment (segments of RING_SEGMENT_BYTES, all posted at once):
 * each reduces a segment into its own as soon as it lands and sends it on
 * while the next one arrives. Each rank writes the data once and adds it
 * once, against the reduce-scatter's twice (size-1)/size of it and the
 * gather's wait at the root: on two ranks of one host, where each segment is
 * written straight into the root's buffer, the writing and the adding
 * overlap on the two cores (DESIGN.md "Collectives" gives the figures).
 * Longer chains grow by a segment per rank, so the choice takes it for two
 * ranks only (buffers.ts).
 */
export async function reduceIntoChain<A extends TypedArray>(ch: Channel, send: A | Failure, recv: A | null, op: Op,
  root: number): Promise<Failure | null> {
  const agreed = await agreeOnShapes(ch, send, op);
  if (agreed !== null) return agreed;
  const input = send as A;
  const { rank, size } = ch;
  const place = (rank - root + size) % size;
  const towardsRoot = place === 0 ? -1 : (rank - 1 + size) % size;
  const fromTail = place === size - 1 ? -1 : (rank + 1) % size;
  // Always in segments, however short: a pipeline needs several.
  const cuts = segmentCuts(input.length, input.BYTES_PER_ELEMENT, 0);
  if (fromTail < 0) {
    await sendSegments(ch, towardsRoot, input, cuts);
    return ch.failure;
  }
  const output = rank === root ? recv! : acquireLike(input, input.length);
  // In place at the root the incoming segments must not overwrite this rank's own operand before it is added.
  const landing = output === input ? acquireLike(input, input.length) : output;
  const own = landing === output ? input : landing;
  try {
    const lands = postSegments(ch, fromTail, landing, cuts);
    const sends: Promise<void>[] = [];
    for (let j = 0; j < lands.length; j++) {
      await lands[j];
      const piece = output.subarray(cuts[j], cuts[j + 1]);
      op.accumulate(piece, own.subarray(cuts[j], cuts[j + 1]));
      if (towardsRoot >= 0) sends.push(ch.send(towardsRoot, piece));
    }
    await Promise.all(sends);
    return ch.failure;
  } finally {
    if (landing !== output) release(landing);
    if (output !== recv) release(output);
  }
}
