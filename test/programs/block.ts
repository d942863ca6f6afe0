// Every rank meets the others, says so, and then holds its event loop for
// argv[2] seconds (argv[3] "busy": a CPU loop; else blocked in Atomics.wait):
// a rank in the middle of a long computation, deaf to its sockets.
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
const seconds = Number(process.argv[2] ?? '120');
await comm.barrier();
console.log(`computing ${comm.rank}`);
if (process.argv[3] === 'busy') {
  const end = Date.now() + seconds * 1000;
  let x = 0;
  while (Date.now() < end) x++;
  if (x < 0) console.log(x);
} else {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}
