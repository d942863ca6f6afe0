// Hello, barrier, allreduce and allgather on every rank of a large job (JavaScript: no
// TypeScript loader to start in each of 128 processes). Rank 0 reports.
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
console.log(`hello ${rank} of ${size}`);
await comm.barrier();
const sum = await comm.allreduce(rank, MPI.SUM);
const all = await comm.allgather(rank);
if (sum !== (size * (size - 1)) / 2) throw new Error(`allreduce gave ${sum}`);
if (all.length !== size || all.some((r, i) => r !== i)) throw new Error('allgather out of order');
await comm.barrier();
if (rank === 0) console.log(`ok ${size}`);
