/**
 * Reduce (MPI 4.1 section 6.9.1) under a user op; predefined ops run as the
 * allreduce (collectives.ts).
 *
 * # Unfinished features
 * - **6.9.1**: MPI_Reduce into the root's receive buffer (the result is a new
 *   value), and MPI_IN_PLACE at the root.
 * - **6.12.7**: MPI_Ireduce as a Request.
 * - **6.13.7**: MPI_Reduce_init.
 */
import type { Channel, Failure } from './channel.js';
import type { Op } from './op.js';
import { BinomialTree } from './binomial-tree.js';
import { ownOperand, reduceStep } from './step.js';

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
