/**
 * All-to-all of values (MPI 4.1 section 6.8).
 *
 * The buffer forms (MPI_Alltoall on buffers, MPI_Alltoallv, MPI_Alltoallw)
 * are in buffers.ts and parts.ts.
 *
 * # Unfinished features
 * - **6.12.6**: MPI_Ialltoallw as a Request (ialltoall and ialltoallv are Comm's).
 * - **6.13.6**: MPI_Alltoall_init, MPI_Alltoallv_init, MPI_Alltoallw_init.
 */
import { Failure, type Channel } from './channel.js';
import { noteFailure } from './step.js';

/**
 * Pairwise exchange: in step k each rank sends to rank + k and receives from
 * rank - k, so every step is a permutation and no rank is flooded; size-1
 * steps. `values` is a Failure when this rank's input is bad: every peer then
 * gets the failure in place of its item.
 */
export async function alltoallPairwise<T>(ch: Channel, values: readonly T[] | Failure): Promise<T[] | Failure> {
  const { rank, size } = ch;
  const result = new Array<T>(size);
  if (!(values instanceof Failure)) result[rank] = values[rank]!;
  for (let step = 1; step < size; step++) {
    const dest = (rank + step) % size;
    const source = (rank - step + size) % size;
    const [, incoming] = await Promise.all([ch.send(dest, values instanceof Failure ? values : values[dest]), ch.recv<T>(source)]);
    // A failed item is in ch.failure: the call fails, so its place stays empty.
    if (!(incoming instanceof Failure)) result[source] = incoming;
  }
  return ch.failure ?? result;
}

/**
 * Bruck's alltoall (Bruck, Ho, Kipnis, Upfal, Weathersby 1997), for small
 * items: ceil(log2 size) rounds instead of size-1 steps. Slot i of a rank
 * first holds its item for rank + i; in the round of bit b each rank sends
 * the slots whose index has b set to rank + b and takes the same slots from
 * rank - b, so an item moves once per set bit of its offset and ends in
 * slot i of its destination, which puts slot i at rank - i. Each round
 * carries about half the items, so an item travels up to log2 size times:
 * for large items pairwise wins (model.ts alltoallBruckCost).
 *
 * A failure goes in place of the slots in every later round; each rank's
 * failure reaches every rank, as in pairwise, since every offset from 1 to
 * size-1 is a sum of the rounds' bits.
 */
export async function alltoallBruck<T>(ch: Channel, values: readonly T[] | Failure): Promise<T[] | Failure> {
  const { rank, size } = ch;
  let slots: T[] | Failure = values instanceof Failure ? noteFailure(ch, values) : Array.from({ length: size }, (_, i) => values[(rank + i) % size]!);
  for (let bit = 1; bit < size; bit *= 2) {
    const outgoing = slots instanceof Failure ? slots : ch.failure ?? slotsWith(slots, bit);
    const [, incoming] = await Promise.all([ch.send((rank + bit) % size, outgoing), ch.recv<T[]>((rank - bit + size) % size)]);
    if (incoming instanceof Failure) slots = incoming;
    else if (!(slots instanceof Failure)) intoSlotsWith(slots, bit, incoming);
  }
  if (slots instanceof Failure) return slots;
  const rotated = slots;
  return ch.failure ?? Array.from({ length: size }, (_, r) => rotated[(rank - r + size) % size]!);
}

/** The items in the slots whose index has `bit` set, in slot order. */
function slotsWith<T>(slots: readonly T[], bit: number): T[] {
  const items: T[] = [];
  for (let i = bit; i < slots.length; i++) if ((i & bit) !== 0) items.push(slots[i]!);
  return items;
}

/** `items` back into the slots whose index has `bit` set, in slot order. */
function intoSlotsWith<T>(slots: T[], bit: number, items: readonly T[]): void {
  let next = 0;
  for (let i = bit; i < slots.length; i++) if ((i & bit) !== 0) slots[i] = items[next++]!;
}
