// The tutorial's dynamic example: each rank sends to its successor and receives
// from its predecessor, wrapping around with % size so any number of ranks works.
// Run it with: npx mpi4ts run -n 4 examples/ring.ts
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
const next = (rank + 1) % size;
const previous = (rank - 1 + size) % size;

// Post the receive before sending, so a ring of any size cannot deadlock.
const incoming = comm.irecv<number>(previous);
await comm.send(rank * 10, next);
const data = await incoming;
if (data !== previous * 10) throw new Error(`rank ${rank} expected ${previous * 10}, got ${data}`);
console.log(`rank ${rank} received ${data} from rank ${previous}`);
