// Master and workers from groups: rank 0 hands out work, the others compute.
// The workers' own communicator comes from COMM_WORLD's group without rank 0
// (comm.getGroup().excl([0]) and comm.create), so their collectives never
// involve the master: they agree on a total with an allreduce among
// themselves, and the first worker reports it to the master, which checks it
// against the closed form. Run it with: npx mpi4ts run -n 4 examples/groups.ts
import * as MPI from 'mpi4ts';

const world = MPI.COMM_WORLD;
const N = 10_000;

const workersGroup = world.getGroup().excl([0]);
// Collective over COMM_WORLD: the master takes part and gets null.
const workers = await world.create(workersGroup);

if (world.size === 1) {
  // No workers: the master does it all.
  console.log(`sum of squares 1..${N} = ${sumOfSquares(1, N, 1)} (rank 0 alone)`);
} else if (workers === null) {
  const [total, by] = (await world.recv(MPI.ANY_SOURCE, 7)) as [number, number];
  const expected = (N * (N + 1) * (2 * N + 1)) / 6;
  if (total !== expected) throw new Error(`the workers found ${total}, expected ${expected}`);
  console.log(`sum of squares 1..${N} = ${total} from ${world.size - 1} worker(s), reported by world rank ${by}`);
} else {
  // Worker w of W sums w+1, w+1+W, ...: a share of 1..N each.
  const mine = sumOfSquares(workers.rank + 1, N, workers.size);
  const total = await workers.allreduce(mine, MPI.SUM);
  // The world rank of the workers' rank 0, found through the groups.
  const [reporter] = workersGroup.translateRanks([0], world.getGroup());
  if (workers.rank === 0) await world.send([total, reporter], 0, 7);
  workers.free();
}

function sumOfSquares(first: number, last: number, stride: number): number {
  let sum = 0;
  for (let i = first; i <= last; i += stride) sum += i * i;
  return sum;
}
