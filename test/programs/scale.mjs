// Hello, barrier, allreduce, allgather and the buffer collectives on every rank of a large job (JavaScript: no
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
// The buffer forms and a nonblocking call: parts straight into place, every rank's.
const into = new Int32Array(size);
await comm.allgatherInto(Int32Array.of(rank), into);
if (into.some((r, i) => r !== i)) throw new Error('allgatherInto out of order');
const blocks = new Int32Array(size);
await comm.alltoallInto(Int32Array.from({ length: size }, (_, to) => rank * size + to), blocks);
if (blocks.some((v, from) => v !== from * size + rank)) throw new Error('alltoallInto misplaced a block');
const total = new Float64Array(4);
await comm.iallreduceInto(Float64Array.of(rank, 1, 2, 3), total).wait();
if (total[0] !== (size * (size - 1)) / 2 || total[1] !== size) throw new Error(`iallreduceInto gave ${total}`);
const root = size - 1;
const gathered = rank === root ? new Int32Array(size) : null;
await comm.gatherInto(Int32Array.of(rank * 2), gathered, root);
if (gathered !== null && gathered.some((v, i) => v !== i * 2)) throw new Error('gatherInto out of order');
await comm.barrier();
if (rank === 0) console.log(`ok ${size}`);
