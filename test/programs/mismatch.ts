// Wrong programs whose ranks disagree on a collective call (run by
// test/mismatch.test.ts at several sizes): each rank lets its error escape,
// so the job must end at once with the words of the rank that saw the
// other's message, never hang. Six correct calls come first, so that the
// wrong one is collective #7 on COMM_WORLD.
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
const { rank } = comm;
const which = process.argv[2];

/** Rank 0 calls bcast then reduce, the others reduce then bcast. */
async function swappedAtRank0(on: MPI.Comm): Promise<void> {
  if (on.rank === 0) {
    await on.bcast(1, 0);
    await on.reduce(1, MPI.SUM, 0);
  } else {
    await on.reduce(1, MPI.SUM, 0);
    await on.bcast(1, 0);
  }
}

for (let i = 0; i < 6; i++) await comm.barrier();

switch (which) {
  case 'order':
    await swappedAtRank0(comm);
    break;
  case 'roots':
    await comm.reduce(1, MPI.SUM, rank === 0 ? 0 : 1);
    break;
  case 'bcastRoots':
    // The last rank takes rank 1 for the root: it waits for another sender than rank 0's tree sends it.
    await comm.bcast(1, rank === comm.size - 1 ? 1 : 0);
    break;
  case 'types':
    await comm.bcastInto(rank === 0 ? new Float64Array(10) : new Int32Array(10), 0);
    break;
  case 'counts': {
    const n = rank === 0 ? 10 : 12;
    await comm.allreduceInto(new Float64Array(n), new Float64Array(n), MPI.SUM);
    break;
  }
  case 'recvMeetsBcast':
    // Rank 0's bcast goes in the collective context: the receive from it must not take it.
    if (rank === 0) await comm.bcast('not for recv', 0);
    else await comm.recv(0, MPI.ANY_TAG);
    break;
  case 'bcastMeetsSend':
    // And a collective's receive takes no point-to-point message.
    if (rank === 0) {
      for (let r = 1; r < comm.size; r++) await comm.send('not for bcast', r, 0);
    } else {
      await comm.bcast(null, 0);
    }
    break;
  case 'split': {
    // The order swapped as above, on a communicator from split: unnamed, or named "half".
    const half = await comm.split(0, rank);
    await half.allreduce(1);
    if (process.argv[3] === 'named') half.name = 'half';
    await swappedAtRank0(half);
    break;
  }
  default:
    throw new Error(`no case ${String(which)}`);
}
console.log(`rank ${rank}: done`);
