// Intentionally broken: every rank waits to receive from its right-hand
// neighbour before it sends anything, so nobody ever sends. `mpi4ts run`
// sees every rank waiting in mpi4ts with nothing in flight, prints the cycle
// of who waits for whom, and ends the job with exit status 125.
// Run it with: npx mpi4ts run -n 3 --debug-calls examples/deadlock.ts
//
// The fix: post the receive without awaiting it (`const r = comm.irecv(right, 0)`),
// send, then `await r`; or exchange in one call: `await comm.sendrecv(rank, left, 0, right, 0)`.
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
if (comm.size < 2) throw new Error('deadlock needs at least 2 ranks (mpi4ts run -n 3 ...)');
const { rank, size } = comm;
const right = (rank + 1) % size;
const left = (rank + size - 1) % size;

// Each rank waits here for a message its right-hand neighbour only sends after its own receive.
const fromRight = await comm.recv<number>(right, 0);
await comm.send(rank, left, 0);
console.log(`rank ${rank} got ${fromRight} (never printed)`);
