// Finalisation loses nothing: rank 0 starts sends it never waits for and reaches
// the end of its program at once; rank 1 receives them only after a pause.
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
if (comm.rank === 0) {
  for (let i = 0; i < 1000; i++) comm.isend({ i }, 1, 1);
  comm.isend(new Float64Array(1 << 20).fill(7), 1, 2);
  console.log('rank 0 done without waiting');
} else if (comm.rank === 1) {
  await new Promise((r) => setTimeout(r, 500));
  for (let i = 0; i < 1000; i++) {
    const got = await comm.recv<{ i: number }>(0, 1);
    if (got.i !== i) throw new Error(`expected ${i}, got ${got.i}`);
  }
  const big = await comm.recv<Float64Array>(0, 2);
  if (big.length !== 1 << 20 || big[12345] !== 7) throw new Error('large message damaged');
  console.log('rank 1 received all');
} else {
  await MPI.finalize();
  console.log(`rank ${comm.rank} finalized explicitly: ${MPI.isFinalized()}`);
}
