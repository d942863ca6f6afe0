// Output and stdin forwarding: rank 0 echoes its stdin; every rank prints its
// rank and an environment variable; rank 1 ends with a line without newline.
import * as MPI from 'mpi4ts';
import { text } from 'node:stream/consumers';

const comm = MPI.COMM_WORLD;
if (comm.rank === 0) {
  const input = await text(process.stdin);
  console.log(`stdin: ${input.trim().split('\n').join('|')}`);
}
console.log(`rank ${comm.rank} of ${comm.size}, env MODE=${process.env.MODE ?? 'unset'}`);
if (comm.rank === 1) process.stdout.write('partial line without newline');
