/** Scatter, gather and allgather of values (MPI 4.0 sections 6.5-6.7). */
import { Failure, type Channel } from './channel.js';
import { Fold, exchange, noteFailure } from './step.js';

/**
 * Binomial scatter: the root holds the items in order of rank relative to it;
 * each rank receives the items of its subtree from its parent, keeps the
 * first, and passes each child the slice for the child's subtree.
 * `values` is significant at the root only (an array of length size, or a
 * Failure when it is not one).
 */
export async function scatterBinomial(ch: Channel, values: unknown[] | Failure | null, root: number): Promise<unknown> {
  const { rank, size } = ch;
  const relative = (rank - root + size) % size;
  let block: unknown = relative === 0 && Array.isArray(values)
    ? Array.from({ length: size }, (_, i) => values[(root + i) % size]) : values;
  let mask = 1;
  while (mask < size) {
    if ((relative & mask) !== 0) {
      block = await ch.recv((rank - mask + size) % size);
      break;
    }
    mask *= 2;
  }
  const sends: Promise<void>[] = [];
  for (mask /= 2; mask >= 1; mask /= 2) {
    if (relative + mask >= size) continue;
    const part = block instanceof Failure ? block : (block as unknown[]).slice(mask, 2 * mask);
    sends.push(ch.send((rank + mask) % size, part));
  }
  await Promise.all(sends);
  return block instanceof Failure ? block : (block as unknown[])[0];
}

/**
 * Binomial gather: each rank collects its subtree's items in rank order (its
 * own, then each child's block, children in increasing distance) and sends
 * them to its parent; the root puts them back in absolute rank order.
 */
export async function gatherBinomial(ch: Channel, value: unknown, root: number): Promise<unknown[] | null> {
  const { rank, size } = ch;
  const relative = (rank - root + size) % size;
  let block: unknown[] | Failure = value instanceof Failure ? value : [value];
  for (let mask = 1; mask < size; mask *= 2) {
    if ((relative & mask) !== 0) {
      await ch.send((rank - mask + size) % size, block);
      return null;
    }
    if (relative + mask < size) {
      const child = await ch.recv((rank + mask) % size);
      if (!(block instanceof Failure)) block = child instanceof Failure ? child : block.concat(child as unknown[]);
    }
  }
  if (block instanceof Failure) return null;
  const items = block;
  return Array.from({ length: size }, (_, r) => items[(r - root + size) % size]);
}

/**
 * Recursive-doubling allgather with the non-power-of-two fold: survivors
 * exchange ever larger contiguous blocks in log2 rounds, then hand the whole
 * result to the ranks that sat out. Each rank receives (size-1)/size of the
 * data once per round it takes part in.
 */
export async function allgatherRecursiveDoubling(ch: Channel, value: unknown): Promise<unknown[] | null> {
  const fold = new Fold(ch.rank, ch.size);
  let block: unknown[] | Failure = value instanceof Failure ? value : [value];
  if (fold.newRank < 0) {
    await ch.send(ch.rank + 1, block);
    const all = await ch.recv(ch.rank + 1);
    return all instanceof Failure ? null : all as unknown[];
  }
  if (fold.absorbsLower) block = merge(ch, await ch.recv(ch.rank - 1), block);
  for (let mask = 1; mask < fold.pof2; mask *= 2) {
    const partner = fold.newRank ^ mask;
    const incoming = await exchange(ch, fold.realRank(partner), block);
    block = partner < fold.newRank ? merge(ch, incoming, block) : merge(ch, block, incoming);
  }
  if (fold.absorbsLower) await ch.send(ch.rank - 1, block);
  return block instanceof Failure ? null : block;
}

function merge(ch: Channel, lower: unknown, higher: unknown): unknown[] | Failure {
  if (lower instanceof Failure) return noteFailure(ch, lower);
  if (higher instanceof Failure) return noteFailure(ch, higher);
  return (lower as unknown[]).concat(higher as unknown[]);
}
