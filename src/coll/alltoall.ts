/** All-to-all (MPI 4.0 section 6.8). */
import { Failure, type Channel } from './channel.js';

/**
 * Pairwise exchange: in step k each rank sends to rank + k and receives from
 * rank - k, so every step is a permutation and no rank is flooded; size-1
 * steps. `values` is a Failure when this rank's input is bad: every peer then
 * gets the failure in place of its item.
 */
export async function alltoallPairwise(ch: Channel, values: unknown[] | Failure): Promise<unknown[]> {
  const { rank, size } = ch;
  const itemFor = (dest: number): unknown => (values instanceof Failure ? values : values[dest]);
  const result: unknown[] = new Array<unknown>(size);
  result[rank] = itemFor(rank);
  for (let step = 1; step < size; step++) {
    const dest = (rank + step) % size;
    const source = (rank - step + size) % size;
    const [, incoming] = await Promise.all([ch.send(dest, itemFor(dest)), ch.recv(source)]);
    result[source] = incoming;
  }
  return result;
}
