/**
 * Barrier (MPI 4.1 section 6.3).
 *
 * # Unfinished features
 * - **6.12.1**: MPI_Ibarrier as a Request (a barrier's promise may be held and
 *   awaited later, but it is no Request for test, waitany or waitall).
 * - **6.13.1**: MPI_Barrier_init.
 */
import type { Channel } from './channel.js';

/**
 * Dissemination barrier (Hensgen, Finkel and Manber): in round k every rank
 * signals rank + 2^k and waits for rank - 2^k; after ceil(log2 size) rounds
 * each rank has heard, directly or not, from all. Works for any size.
 */
export async function barrierDissemination(ch: Channel): Promise<void> {
  const { rank, size } = ch;
  for (let distance = 1; distance < size; distance *= 2) {
    await Promise.all([ch.send((rank + distance) % size, null), ch.recv((rank - distance + size) % size)]);
  }
}
