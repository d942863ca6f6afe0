// A client of test/programs/mpmd-server.ts: says who it is in the gather,
// then squares the number the server sends it.
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
const me = { rank: comm.rank, appnum: MPI.APPNUM, role: 'client', args: process.argv.slice(2), mode: process.env.MODE ?? 'unset' };
await comm.gather(me, 0);
const n = await comm.recv<number>(0, 1);
await comm.send(n * n, 0, 2);
