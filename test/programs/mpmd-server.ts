// The server of an MPMD job (`-n 1 mpmd-server.ts : -n 3 mpmd-client.ts`),
// the tutorial's pattern: it gathers who every rank is (rank, block, its
// program's arguments and environment), then hands each client a number and
// sums the squares they send back.
import * as MPI from 'mpi4ts';

const comm = MPI.COMM_WORLD;
const me = { rank: comm.rank, appnum: MPI.APPNUM, role: 'server', args: process.argv.slice(2), mode: process.env.MODE ?? 'unset' };
const everyone = await comm.gather(me, 0);
if (comm.rank === 0) {
  console.log(`world ${comm.size}`);
  for (const rank of everyone!) console.log(`rank ${JSON.stringify(rank)}`);
  const clients = everyone!.filter((r) => r.role === 'client').map((r) => r.rank);
  for (const client of clients) await comm.send(client, client, 1);
  let sum = 0;
  for (let i = 0; i < clients.length; i++) sum += await comm.recv<number>(MPI.ANY_SOURCE, 2);
  console.log(`sum of squares ${sum}`);
}
