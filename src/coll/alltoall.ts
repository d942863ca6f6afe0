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
