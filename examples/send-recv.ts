// The tutorial's first example: rank 0 sends (rank+1)*5 to rank 1, which prints it.
// Run it with: npx mpi4ts run -n 2 examples/send-recv.ts
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
if (comm.size < 2) throw new Error('send-recv needs at least 2 ranks (mpi4ts run -n 2 ...)');

if (comm.rank === 0) {
  const data = (comm.rank + 1) * 5;
  await comm.send(data, 1);
  console.log(`rank 0 sent ${data} to rank 1`);
} else if (comm.rank === 1) {
  const data = await comm.recv<number>(0);
  if (data !== 5) throw new Error(`rank 1 expected 5, got ${data}`);
  console.log(`rank 1 received ${data} from rank 0`);
}
