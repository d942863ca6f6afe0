/**
 * Scatter, gather and allgather of values (MPI 4.1 sections 6.5-6.7).
 *
 * # Unfinished features
 * - **6.5**-**6.7**: datatypes that differ between send and receive (the
 *   buffer forms, in buffers.ts, take one element type).
 * - **6.13.3**-**6.13.5**: MPI_Gather_init, MPI_Scatter_init, MPI_Allgather_init.
 */
import { Failure, type Channel } from './channel.js';
import { Fold, exchange, noteFailure } from './step.js';
import { BinomialTree } from './binomial-tree.js';

/**
 * Binomial scatter: the root orders the items by rank relative to it, so
 * that each subtree's items are one slice; each rank receives its subtree's
 * slice from its parent, keeps the first item and passes each child the
 * slice of the child's subtree. `values` is significant at the root only (an
 * array of length size, or a Failure when it is not one).
 */
export async function scatterBinomial<T>(ch: Channel, values: readonly T[] | Failure | null, root: number): Promise<T | Failure> {
  const { rank, size } = ch;
  const tree = new BinomialTree(rank, size, root);
  const block = tree.parent >= 0 ? await ch.recv<T[]>(tree.parent) : inRelativeOrder(values!, root, size);
  const sends: Promise<void>[] = [];
  for (let i = tree.children.length - 1; i >= 0; i--) {
    sends.push(ch.send(tree.children[i]!, block instanceof Failure ? block : block.slice(2 ** i, 2 ** (i + 1))));
  }
  await Promise.all(sends);
  return block instanceof Failure ? block : block[0]!;
}

function inRelativeOrder<T>(values: readonly T[] | Failure, root: number, size: number): T[] | Failure {
  return values instanceof Failure ? values : Array.from({ length: size }, (_, i) => values[(root + i) % size]!);
}

/**
 * Binomial gather: each rank collects its subtree's items in relative rank
 * order (its own, then each child's block, nearest child first) and sends
 * them to its parent; the root puts them back in absolute rank order.
 */
export async function gatherBinomial<T>(ch: Channel, value: T | Failure, root: number): Promise<T[] | Failure | null> {
  const { rank, size } = ch;
  const tree = new BinomialTree(rank, size, root);
  let block: T[] | Failure = value instanceof Failure ? value : [value];
  for (const child of tree.children) {
    const incoming = await ch.recv<T[]>(child);
    if (!(block instanceof Failure)) block = incoming instanceof Failure ? incoming : block.concat(incoming);
  }
  if (tree.parent >= 0) {
    await ch.send(tree.parent, block);
    return null;
  }
  if (block instanceof Failure) return block;
  const items = block;
  return Array.from({ length: size }, (_, r) => items[(r - root + size) % size]!);
}

/**
 * Recursive-doubling allgather with the non-power-of-two fold: survivors
 * exchange ever larger contiguous blocks in log2 rounds, then hand the whole
 * result to the ranks that sat out. Each rank receives (size-1)/size of the
 * data once per round it takes part in.
 */
export async function allgatherRecursiveDoubling<T>(ch: Channel, value: T | Failure): Promise<T[] | Failure> {
  const fold = new Fold(ch.rank, ch.size);
  let block: T[] | Failure = value instanceof Failure ? value : [value];
  if (fold.newRank < 0) {
    await ch.send(ch.rank + 1, block);
    return ch.recv<T[]>(ch.rank + 1);
  }
  if (fold.absorbsLower) block = merge(ch, await ch.recv<T[]>(ch.rank - 1), block);
  for (let mask = 1; mask < fold.pof2; mask *= 2) {
    const partner = fold.newRank ^ mask;
    const incoming = await exchange(ch, fold.realRank(partner), block);
    block = partner < fold.newRank ? merge(ch, incoming, block) : merge(ch, block, incoming);
  }
  if (fold.absorbsLower) await ch.send(ch.rank - 1, block);
  return block;
}

/**
 * Bruck's allgather (Bruck, Ho, Kipnis, Upfal, Weathersby 1997), for sizes
 * that are not powers of two: in round k every rank sends the values it has
 * (its own and those of the next 2^k - 1 ranks) to rank - 2^k and appends
 * those of rank + 2^k, so after ceil(log2 size) rounds it has every value,
 * rotated by its rank. No fold: on 3, 5, 6 or 7 ranks recursive doubling
 * takes two rounds more, each carrying the whole result; here every rank
 * receives the (size-1)/size of the data once. A failure goes in place of
 * the values in every later round, so every rank learns it.
 */
export async function allgatherBruck<T>(ch: Channel, value: T | Failure): Promise<T[] | Failure> {
  const { rank, size } = ch;
  let items: T[] | Failure = value instanceof Failure ? noteFailure(ch, value) : [value];
  for (let distance = 1; distance < size; distance *= 2) {
    const count = Math.min(distance, size - distance);
    const outgoing = items instanceof Failure ? items : ch.failure ?? items.slice(0, count);
    const [, incoming] = await Promise.all([
      ch.send((rank - distance + size) % size, outgoing),
      ch.recv<T[]>((rank + distance) % size),
    ]);
    if (incoming instanceof Failure) items = noteFailure(ch, incoming);
    else if (!(items instanceof Failure)) items = items.concat(incoming);
  }
  if (items instanceof Failure) return items;
  const rotated = items;
  return Array.from({ length: size }, (_, r) => rotated[(r - rank + size) % size]!);
}

function merge<T>(ch: Channel, lower: T[] | Failure, higher: T[] | Failure): T[] | Failure {
  if (lower instanceof Failure) return noteFailure(ch, lower);
  if (higher instanceof Failure) return noteFailure(ch, higher);
  return lower.concat(higher);
}
