// The tutorial's tag example: rank 0 sends 23 with tag 1, then 34 with tag 2, to
// rank 3; rank 3 asks for tag 2 first, so it prints 34 before 23.
// Run it with: npx mpi4ts run -n 4 examples/tags.ts
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
if (comm.size < 4) throw new Error('tags needs at least 4 ranks (mpi4ts run -n 4 ...)');

if (comm.rank === 0) {
  await comm.send(23, 3, 1);
  await comm.send(34, 3, 2);
} else if (comm.rank === 3) {
  const first = await comm.recv<number>(0, 2);
  console.log(first);
  const second = await comm.recv<number>(0, 1);
  console.log(second);
  if (first !== 34 || second !== 23) throw new Error(`expected 34 then 23, got ${first} then ${second}`);
}
