/**
 * Broadcast (MPI 4.1 section 6.4).
 *
 * # Unfinished features
 * - **6.13.2**: MPI_Bcast_init. (Into the caller's buffer: bcastIntoBinomial
 *   in parts.ts; as a Request: Comm.ibcast.)
 */
import type { Channel, Failure } from './channel.js';
import { BinomialTree } from './binomial-tree.js';

/**
 * Binomial tree: each rank receives the value from its parent and passes it
 * to its children, farthest (largest subtree) first; ceil(log2 size)
 * rounds. A failure at the root travels down in place of the value.
 */
export async function bcastBinomial<T>(ch: Channel, value: T | Failure, root: number): Promise<T | Failure> {
  const tree = new BinomialTree(ch.rank, ch.size, root);
  const received = tree.parent < 0 ? value : await ch.recv<T>(tree.parent);
  const sends: Promise<void>[] = [];
  for (let i = tree.children.length - 1; i >= 0; i--) sends.push(ch.send(tree.children[i]!, received));
  await Promise.all(sends);
  return received;
}
