// Calls for mpi4ts run --trace (test/launcher/trace.test.ts): argv[2] names the case.
//   ring N: N rounds of a ring (irecv from the predecessor, send to the successor, await),
//     then a bcast, an allreduce and an isend/irecv pair per neighbour under waitall.
//   compute: rank 1 computes 400 ms before a barrier the others wait in.
//   fail: a ring round, then rank 1 throws while the others wait in a recv from it.
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
const { rank, size } = comm;
const next = (rank + 1) % size;
const previous = (rank - 1 + size) % size;
const [which = 'ring', rounds = '3'] = process.argv.slice(2);

async function ringRound(round: number): Promise<void> {
  const incoming = comm.irecv<number>(previous, round);
  await comm.send(rank * 100 + round, next, round);
  const got = await incoming;
  if (got !== previous * 100 + round) throw new Error(`rank ${rank} round ${round}: got ${got}`);
}

if (which === 'ring') {
  for (let round = 0; round < Number(rounds); round++) await ringRound(round);
  const value = await comm.bcast(rank === 0 ? { hello: 'world' } : null, 0);
  if (value?.hello !== 'world') throw new Error('bcast gave the wrong value');
  const sum = await comm.allreduce(rank, MPI.SUM);
  if (sum !== (size * (size - 1)) / 2) throw new Error(`allreduce gave ${sum}`);
  const requests = [comm.isend(new Float64Array(16), next, 99), comm.irecv(previous, 99)];
  await MPI.Request.waitall(requests);
  if (rank === 0) console.log('ok ring');
} else if (which === 'compute') {
  // Rank 1 computes 400 ms, the others wait for it in the barrier: MPI time is theirs.
  if (rank === 1) for (const until = Date.now() + 400; Date.now() < until;);
  await comm.barrier();
} else if (which === 'fail') {
  await ringRound(0);
  if (rank === 1) throw new Error('rank 1 fails on purpose');
  await comm.recv(1, 7);
} else {
  throw new Error(`unknown case ${which}`);
}
