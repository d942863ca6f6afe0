/** Broadcast (MPI 4.0 section 6.4). */
import type { Channel } from './channel.js';

/**
 * Binomial tree: with ranks renumbered relative to the root, rank r receives
 * from r minus its lowest set bit and sends to r + 2^k for each 2^k below that
 * bit; ceil(log2 size) rounds. A failure at the root travels down in place of
 * the value.
 */
export async function bcastBinomial(ch: Channel, value: unknown, root: number): Promise<unknown> {
  const { rank, size } = ch;
  const relative = (rank - root + size) % size;
  let mask = 1;
  while (mask < size) {
    if ((relative & mask) !== 0) {
      value = await ch.recv((rank - mask + size) % size);
      break;
    }
    mask *= 2;
  }
  const sends: Promise<void>[] = [];
  for (mask /= 2; mask >= 1; mask /= 2) {
    if (relative + mask < size) sends.push(ch.send((rank + mask) % size, value));
  }
  await Promise.all(sends);
  return value;
}
