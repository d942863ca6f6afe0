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
import { chunkStarts, recvSegments, ringReduceScatter, sendSegments } from './ring.js';
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
