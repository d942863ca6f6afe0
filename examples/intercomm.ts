// Two halves of the world joined by an intercommunicator, as mpi4py's
// intercommunicator demos do: COMM_WORLD splits into "left" (the lower half)
// and "right", and each half's rank 0 leads it in createIntercomm, with
// COMM_WORLD as the peer communicator the two leaders talk over. On an
// intercommunicator, ranks in send and recv name ranks of the other half, and
// allreduce gives each half the sum of the other half's values. merge then
// makes one intracommunicator of both halves again, the left half first.
// Run it with: npx mpi4ts run -n 4 examples/intercomm.ts
import * as MPI from 'mpi4ts';

const world = MPI.COMM_WORLD;
const leftSize = Math.ceil(world.size / 2);
const isLeft = world.rank < leftSize;

if (world.size === 1) {
  console.log('an intercommunicator needs two groups: run with 2 or more ranks');
} else {
  const half = (await world.split(isLeft ? 0 : 1, world.rank))!;
  // The other half's leader, by its rank in COMM_WORLD: rank 0 of the left, rank leftSize of the right.
  const inter = await half.createIntercomm(0, world, isLeft ? leftSize : 0, 99);

  // Rank i of the left half greets rank i of the right half, where there is one.
  const partner = inter.rank < inter.remoteSize ? inter.rank : MPI.PROC_NULL;
  const reply = await inter.sendrecv(`hello from world rank ${world.rank}`, partner, 1, partner, 1);

  // Each half gets the other half's sum of world ranks.
  const otherSum = await inter.allreduce(world.rank, MPI.SUM);
  const expected = isLeft
    ? (leftSize + world.size - 1) * (world.size - leftSize) / 2
    : (leftSize - 1) * leftSize / 2;
  if (otherSum !== expected) throw new Error(`rank ${world.rank}: the other half's sum is ${otherSum}, expected ${expected}`);

  // merge: the half passing high = false comes first, so the world's order comes back.
  const merged = await inter.merge(!isLeft);
  if (merged.rank !== world.rank) throw new Error(`rank ${world.rank}: merged rank ${merged.rank}`);
  const everyone = await merged.allreduce(1, MPI.SUM);

  if (merged.rank === 0) console.log(`${leftSize} left and ${world.size - leftSize} right ranks; merged size ${everyone}`);
  if (reply !== null) console.log(`world rank ${world.rank} (${isLeft ? 'left' : 'right'}) heard: ${String(reply)}`);

  merged.free();
  await inter.disconnect();
  half.free();
}
