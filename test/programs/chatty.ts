// Every rank prints a line every few milliseconds for about a second, then exits 0:
// output that outlives a reader such as `| head -1`.
import * as MPI from 'mpi4ts';

const rank = MPI.COMM_WORLD.rank;
for (let i = 0; i < 150; i++) {
  console.log(`rank ${rank} line ${i}`);
  await new Promise((resolve) => setTimeout(resolve, 5));
}
await MPI.COMM_WORLD.barrier();
